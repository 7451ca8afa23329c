export { compileToAsl, compileUnchecked } from './compile/compile.js';
export type { AslDefinition, AslState, CompileIssue, CompileOptions, CompiledMachine, TaskBinding, WorkflowType } from './compile/types.js';
