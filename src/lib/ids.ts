/** Random, URL-safe ids with a short prefix that says what they are (bk_, evt_, ...). */
export function newId(prefix: string): string {
  return `${prefix}_${crypto.randomUUID().replaceAll("-", "")}`;
}
