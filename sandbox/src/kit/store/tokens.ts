/** Access tokens the simulators minted, with who they act for and until when. */

export function storeToken(
  sql: SqlStorage,
  token: string,
  clientId: string,
  expiresAt: number,
): void {
  sql.exec("DELETE FROM tokens WHERE expires_at <= ?", Date.now());
  sql.exec(
    "INSERT INTO tokens (token, client_id, expires_at) VALUES (?, ?, ?)",
    token,
    clientId,
    expiresAt,
  );
}

export function tokenClient(sql: SqlStorage, token: string, now: number): string | null {
  const row = sql
    .exec("SELECT client_id FROM tokens WHERE token = ? AND expires_at > ?", token, now)
    .toArray()[0];
  return row ? String(row.client_id) : null;
}
