/** An SSE body split into its `data:` payloads and the number of comment lines (keep-alives). */
export function parseSse(body: string): { data: string[]; comments: number } {
  const data: string[] = [];
  let comments = 0;
  for (const block of body.split('\n\n')) {
    for (const line of block.split('\n')) {
      if (line.startsWith(':')) comments++;
      else if (line.startsWith('data: ')) data.push(line.slice('data: '.length));
    }
  }
  return { data, comments };
}
