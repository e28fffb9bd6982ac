/**
 * Independent reference answers for push plans (node tests): how few calls a platform's request
 * size allows, computed without the adapters' own code. The one model lives in
 * scripts/lib/push-minimum.mjs, shared with the bench.
 */
export { minCalls, minWindows, runLengths } from "../../scripts/lib/push-minimum.mjs";
