export { BatonStateMachine, type BatonStateMachineProps } from './construct.js';
