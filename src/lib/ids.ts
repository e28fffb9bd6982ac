/** Random, URL-safe ids with a short prefix that says what they are (bk_, evt_, ...). */
export function newId(prefix: string): string {
  return `${prefix}_${crypto.randomUUID().replaceAll("-", "")}`;
}

/** What an id of ours looks like: a short lowercase prefix, an underscore, url-safe characters. */
export const ID_FORMAT = /^[a-z]{2,5}_[A-Za-z0-9_]{1,64}$/;
