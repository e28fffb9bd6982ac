/** Hono typing shared by every route module. */
export interface AppEnv {
  Bindings: Env;
  Variables: {
    /** The injected fault or enforced limit that answered this call, for the request log. */
    fault: string | undefined;
  };
}
