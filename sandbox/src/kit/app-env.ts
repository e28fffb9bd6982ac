/** Hono typing shared by every route module. */
export interface AppEnv {
  Bindings: Env;
  Variables: {
    /** The injected fault or enforced limit that answered this call, for the request log. */
    fault: string | undefined;
    /** Who the access token that passed the gate belongs to (an account, or the OAuth client). */
    account: string | undefined;
  };
}
