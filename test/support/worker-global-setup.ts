/**
 * Global setup of the "worker" project: the tests run inside workerd (the vitest pool), and the
 * Worker under test is configured to reach the real local stack started here.
 */
import type { TestProject } from "vitest/node";
import { type LocalStack, startLocalStack, type WorkerVars } from "./local-stack";

declare module "vitest" {
  export interface ProvidedContext {
    workerVars: Partial<WorkerVars>;
    stack: { redisBridgeUrl: string; redisToken: string; stripeUrl: string };
  }
}

let stack: LocalStack | undefined;

export default async function setup(project: TestProject) {
  stack = await startLocalStack();
  project.provide("workerVars", stack.vars);
  project.provide("stack", {
    redisBridgeUrl: stack.redisBridge.url,
    redisToken: stack.secrets.redisToken,
    stripeUrl: stack.stripe.url,
  });
  return async () => {
    await stack?.stop();
  };
}
