/** Execution statuses Step Functions reports in its status-change events. */
export type ExecutionStatus = 'RUNNING' | 'SUCCEEDED' | 'FAILED' | 'TIMED_OUT' | 'ABORTED' | 'PENDING_REDRIVE';

/**
 * The EventBridge event Step Functions sends on every execution status change
 * (`source: "aws.states"`, `detail-type: "Step Functions Execution Status Change"`), as a rule
 * delivers it to a Lambda target. `input`/`output` are JSON strings, left out (`included: false`)
 * when the event would pass 256 KB; dates are epoch milliseconds.
 */
export interface ExecutionStatusChangeEvent {
  version: string;
  id: string;
  'detail-type': 'Step Functions Execution Status Change';
  source: 'aws.states';
  account: string;
  time: string;
  region: string;
  resources: string[];
  detail: {
    executionArn: string;
    stateMachineArn: string;
    name: string;
    status: ExecutionStatus;
    startDate: number;
    stopDate: number | null;
    input: string | null;
    output: string | null;
    inputDetails?: { included: boolean } | null;
    outputDetails?: { included: boolean } | null;
    error: string | null;
    cause: string | null;
    redriveCount?: number;
    redriveDate?: number | null;
  };
}

/** The `detail-type` of {@link ExecutionStatusChangeEvent}: what an EventBridge rule matches. */
export const EXECUTION_STATUS_CHANGE = 'Step Functions Execution Status Change';
