/**
 * The safety rules of `execute_curl` (the upstream's, plus the file-reading forms they imply):
 * the command must start with `curl `; no shell metacharacters; every option must be on an
 * allowlist (options that write files, read config or credentials, or could reach another
 * host are refused by name with the reason); every URL must be http(s) on the router's
 * host:port or localhost. The result is an argument array for spawn — no shell ever runs.
 */

export class CurlRefused extends Error {}

const METACHARACTERS: Array<[RegExp, string]> = [
  [/\\\r?\n/, 'escaped newline'],
  [/;/, "';'"],
  [/&/, "'&'"],
  [/\|/, "'|'"],
  [/`/, 'backtick'],
  [/\$\(/, "'$('"],
  [/\$\{/, "'${'"],
  [/[<>]/, 'redirect (< or >)'],
];

/** Options curl may take, by name: whether each takes a value. */
const ALLOWED = new Map<string, boolean>([
  ['-X', true],
  ['--request', true],
  ['-H', true],
  ['--header', true],
  ['-d', true],
  ['--data', true],
  ['--data-raw', true],
  ['--data-binary', true],
  ['--data-ascii', true],
  ['--data-urlencode', true],
  ['--json', true],
  ['-A', true],
  ['--user-agent', true],
  ['-e', true],
  ['--referer', true],
  ['-b', true],
  ['--cookie', true],
  ['--url', true],
  ['--connect-timeout', true],
  ['-s', false],
  ['--silent', false],
  ['-S', false],
  ['--show-error', false],
  ['-i', false],
  ['--include', false],
  ['-v', false],
  ['--verbose', false],
  ['-G', false],
  ['--get', false],
  ['-I', false],
  ['--head', false],
  ['-f', false],
  ['--fail', false],
  ['--fail-with-body', false],
  ['--compressed', false],
  ['-k', false],
  ['--insecure', false],
  ['-N', false],
  ['--no-buffer', false],
  ['-g', false],
  ['--globoff', false],
  ['--http1.1', false],
  ['--no-progress-meter', false],
]);

const WRITES = 'writes files';
const READS = 'reads a config, credential or local file';
const ELSEWHERE = 'could send the request to another host';
const FORBIDDEN = new Map<string, string>([
  ...[
    '-o',
    '--output',
    '-O',
    '--remote-name',
    '--remote-name-all',
    '--output-dir',
    '--create-dirs',
    '-D',
    '--dump-header',
    '-c',
    '--cookie-jar',
    '--stderr',
    '--trace',
    '--trace-ascii',
    '--trace-time',
    '--trace-ids',
    '--trace-config',
    '--libcurl',
    '--hsts',
    '--alt-svc',
    '--etag-save',
    '-w',
    '--write-out',
    '-T',
    '--upload-file',
  ].map((o) => [o, WRITES] as [string, string]),
  ...[
    '-K',
    '--config',
    '-q',
    '--disable',
    '-n',
    '--netrc',
    '--netrc-file',
    '--netrc-optional',
    '--etag-compare',
    '--variable',
    '--cacert',
    '--capath',
    '--cert',
    '-E',
    '--key',
    '--crlfile',
    '-F',
    '--form',
  ].map((o) => [o, READS] as [string, string]),
  ...['-u', '--user', '--proxy-user', '-U', '--oauth2-bearer'].map(
    (o) => [o, 'sets credentials (auth is injected for you)'] as [string, string],
  ),
  ...['--proto', '--proto-default', '--proto-redir'].map(
    (o) => [o, 'changes the allowed protocols'] as [string, string],
  ),
  ...[
    '-L',
    '--location',
    '--location-trusted',
    '-x',
    '--proxy',
    '--preproxy',
    '--resolve',
    '--connect-to',
    '--unix-socket',
    '--abstract-unix-socket',
    '--doh-url',
    '--interface',
  ].map((o) => [o, ELSEWHERE] as [string, string]),
  ['-m', 'sets its own timeout (use the timeout parameter, 1..300 s)'],
  ['--max-time', 'sets its own timeout (use the timeout parameter, 1..300 s)'],
]);

/** Splits the command into words the way a shell would quote them, without expanding anything. */
export function splitWords(command: string): string[] {
  const words: string[] = [];
  let word = '';
  let inWord = false;
  for (let i = 0; i < command.length; i++) {
    const c = command[i];
    if (c === ' ' || c === '\t') {
      if (inWord) words.push(word);
      word = '';
      inWord = false;
    } else if (c === '\n' || c === '\r') {
      throw new CurlRefused(
        'Refused: a line break outside quotes would start a second command; send one curl command.',
      );
    } else if (c === "'") {
      const end = command.indexOf("'", i + 1);
      if (end < 0) throw new CurlRefused('Refused: unterminated single quote.');
      word += command.slice(i + 1, end);
      i = end;
      inWord = true;
    } else if (c === '"') {
      let j = i + 1;
      for (; j < command.length && command[j] !== '"'; j++) {
        if (command[j] === '\\' && '"\\$`'.includes(command[j + 1] ?? '')) j++;
        word += command[j];
      }
      if (j >= command.length) throw new CurlRefused('Refused: unterminated double quote.');
      i = j;
      inWord = true;
    } else if (c === '\\') {
      if (i + 1 >= command.length) throw new CurlRefused('Refused: trailing backslash.');
      word += command[++i];
      inWord = true;
    } else {
      word += c;
      inWord = true;
    }
  }
  if (inWord) words.push(word);
  return words;
}

export interface CheckedCurl {
  /** curl's arguments as the assistant gave them (without the leading `curl`). */
  args: string[];
  urls: URL[];
  /** Whether the command already sets a credential header (auth is then not injected). */
  hasAuthHeader: boolean;
}

const LOCALHOSTS = new Set(['localhost', '127.0.0.1', '[::1]']);

function checkUrl(raw: string, routerHost: string): URL {
  if (raw.includes('\\')) throw new CurlRefused(`Refused URL '${raw}': backslashes are not allowed in URLs.`);
  // Parsers disagree about user info and fragments (the old curl-vs-WHATWG host confusions).
  if (/[@#]/.test(raw))
    throw new CurlRefused(
      `Refused URL '${raw}': '@' and '#' are not allowed in URLs (no user info, no fragments).`,
    );
  const authority = /^(https?):\/\/([^/?#]*)/i.exec(raw);
  if (!authority)
    throw new CurlRefused(
      `Refused URL '${raw}': give a full http:// or https:// URL (for example http://${routerHost}/v1/models).`,
    );
  if (!/^([A-Za-z0-9.-]+|\[[0-9A-Fa-f:]+\])(:\d{1,5})?$/.test(authority[2]))
    throw new CurlRefused(`Refused URL '${raw}': the host part must be a plain host[:port] (no user info).`);
  const url = new URL(raw);
  const port = url.port || (url.protocol === 'https:' ? '443' : '80');
  if (`${url.hostname}:${port}` !== routerHost && !LOCALHOSTS.has(url.hostname)) {
    throw new CurlRefused(
      `Refused URL '${raw}': only the router (${routerHost}) and localhost may be called.`,
    );
  }
  return url;
}

function checkValue(option: string, value: string): void {
  const reads = () =>
    new CurlRefused(`Refused: '${option} ${value}' would read a local file; put the data inline instead.`);
  if (['-d', '--data', '--data-binary', '--data-ascii', '--json', '-H', '--header'].includes(option)) {
    if (value.startsWith('@')) throw reads();
  }
  if (option === '--data-urlencode' && /^[^=]*@/.test(value)) throw reads();
  if ((option === '-b' || option === '--cookie') && !value.includes('=')) throw reads();
}

/** Applies every rule; throws CurlRefused with a message the assistant can act on. */
export function checkCurlCommand(command: string, routerHost: string): CheckedCurl {
  const trimmed = command.trim();
  if (!trimmed.startsWith('curl ')) throw new CurlRefused("Refused: the command must start with 'curl '.");
  for (const [pattern, name] of METACHARACTERS) {
    if (pattern.test(trimmed))
      throw new CurlRefused(
        `Refused: the shell metacharacter ${name} is not allowed (no shell runs; send one plain curl command).`,
      );
  }
  const words = splitWords(trimmed).slice(1);
  const urls: URL[] = [];
  let hasAuthHeader = false;
  const takeValue = (option: string, value: string | undefined) => {
    if (value === undefined) throw new CurlRefused(`Refused: ${option} needs a value.`);
    checkValue(option, value);
    if ((option === '-H' || option === '--header') && /^\s*(authorization|x-api-key)\s*:/i.test(value))
      hasAuthHeader = true;
    if (option === '--url') urls.push(checkUrl(value, routerHost));
  };
  const refuse = (option: string): never => {
    const reason = FORBIDDEN.get(option);
    throw new CurlRefused(
      reason
        ? `Refused: curl option ${option} is forbidden (${reason}).`
        : `Refused: curl option ${option} is not allowed. Allowed: ${[...ALLOWED.keys()].join(' ')}.`,
    );
  };
  for (let i = 0; i < words.length; i++) {
    const word = words[i];
    if (word.startsWith('--')) {
      const takes = ALLOWED.get(word);
      if (takes === undefined) refuse(word);
      if (takes) takeValue(word, words[++i]);
    } else if (word.startsWith('-') && word.length > 1) {
      // Bundled short options: -sS, -sSi, -XPOST, -HAccept:x
      for (let j = 1; j < word.length; j++) {
        const option = `-${word[j]}`;
        const takes = ALLOWED.get(option);
        if (takes === undefined) refuse(option);
        if (takes) {
          const rest = word.slice(j + 1);
          takeValue(option, rest !== '' ? rest : words[++i]);
          break;
        }
      }
    } else if (word === '-') {
      throw new CurlRefused("Refused: '-' (standard input) is not allowed.");
    } else {
      urls.push(checkUrl(word, routerHost));
    }
  }
  if (urls.length === 0)
    throw new CurlRefused(`Refused: no URL. Example: curl http://${routerHost}/v1/models`);
  return { args: words, urls, hasAuthHeader };
}
