/**
 * distcc's host list, read as distcc reads it (src/hosts.c, `man distcc`, HOST SPECIFICATIONS):
 *
 *   localhost[/LIMIT]                          compile here, without a daemon (2 slots unless given)
 *   HOST[:PORT][/LIMIT][,lzo][,cpp]            a distccd over TCP (port 3632, 4 slots unless given)
 *   [USER]@HOST[/LIMIT][:COMMAND][,lzo][,cpp]  a distccd started over ssh
 *   --randomize  --localslots=N  --localslots_cpp=N  +zeroconf  # comments
 *
 * osvd needs two things from it: the number of compiles the hosts take at once (what `distcc -j`
 * prints: the sum of the limits) and a check that names the bad entry before a build starts (distcc
 * itself says "bad multiplier" on every compile, and `distcc -j` exits 0 even then).
 */

export interface DistccHost {
  /** The entry as written. */
  readonly spec: string;
  readonly mode: 'local' | 'tcp' | 'ssh';
  readonly hostname: string;
  readonly port?: number;
  readonly user?: string;
  /** How many compiles distcc sends to it at once. */
  readonly slots: number;
  /** `,lzo`: compressed transfers. */
  readonly lzo: boolean;
  /** `,cpp`: pump mode, the host preprocesses (needs `pump` around the build). */
  readonly pump: boolean;
  /** `,down`: listed but not used. */
  readonly down: boolean;
}

export interface DistccHostList {
  readonly hosts: readonly DistccHost[];
  readonly randomize: boolean;
  /** `+zeroconf`: more hosts are found at run time, so the slots cannot be counted from the list. */
  readonly zeroconf: boolean;
  readonly localSlots?: number;
  readonly localSlotsCpp?: number;
}

export const DISTCC_PORT = 3632;
const TCP_SLOTS = 4;
const LOCALHOST_SLOTS = 2;

export class DistccHostError extends Error {}

/** Parse a host list (the value of DISTCC_HOSTS, or a hosts file). Throws DistccHostError naming the entry. */
export function parseDistccHosts(text: string): DistccHostList {
  const hosts: DistccHost[] = [];
  let randomize = false;
  let zeroconf = false;
  let localSlots: number | undefined;
  let localSlotsCpp: number | undefined;
  // distcc ends an entry at white space or '#', and skips from '#' to the end of the line.
  for (const line of text.split(/\r?\n|\r/)) {
    for (const token of line.replace(/#.*/, '').split(/[ \t\f]+/)) {
      if (token === '') continue;
      if (token.startsWith('--randomize')) randomize = true;
      else if (token.startsWith('--localslots_cpp')) localSlotsCpp = multiplier(token, 16) ?? bad(token, 'expected --localslots_cpp=N');
      else if (token.startsWith('--localslots')) localSlots = multiplier(token, 12) ?? bad(token, 'expected --localslots=N');
      else if (token === '+zeroconf') zeroconf = true;
      else hosts.push(parseHost(token));
    }
  }
  if (hosts.length === 0 && !zeroconf) throw new DistccHostError('the host list names no hosts');
  return { hosts, randomize, zeroconf, localSlots, localSlotsCpp };
}

/** How many compiles the listed hosts take at once, as `distcc -j` counts them (hosts marked down left out). */
export function distccSlots(list: DistccHostList): number {
  return list.hosts.filter((h) => !h.down).reduce((n, h) => n + h.slots, 0);
}

function parseHost(spec: string): DistccHost {
  if (spec === 'localhost' || spec.startsWith('localhost/')) {
    const rest = { s: spec.slice('localhost'.length) };
    const slots = takeMultiplier(spec, rest) ?? LOCALHOST_SLOTS;
    if (rest.s !== '') bad(spec, `unexpected '${rest.s}'`);
    return { spec, mode: 'local', hostname: 'localhost', slots, lzo: false, pump: false, down: false };
  }
  return spec.includes('@') ? parseSsh(spec) : parseTcp(spec);
}

function parseSsh(spec: string): DistccHost {
  const at = spec.indexOf('@');
  const user = spec.slice(0, at) || undefined;
  const rest = { s: spec.slice(at + 1) };
  const hostname = takeUntil(rest, /[/: \t,]/);
  if (!hostname) bad(spec, 'an ssh host needs a name after @');
  const slots = takeMultiplier(spec, rest) ?? TCP_SLOTS;
  if (rest.s.startsWith(':')) {
    rest.s = rest.s.slice(1);
    if (!takeUntil(rest, /[ \t,]/)) bad(spec, 'expected the path of distccd after :');
  }
  const options = takeOptions(spec, rest);
  if (rest.s !== '') bad(spec, `unexpected '${rest.s}'`);
  return { spec, mode: 'ssh', hostname, user, slots, ...options };
}

function parseTcp(spec: string): DistccHost {
  const rest = { s: spec };
  let hostname: string;
  if (rest.s.startsWith('[')) {
    rest.s = rest.s.slice(1);
    hostname = takeUntil(rest, /[/\] \t,]/);
    if (!rest.s.startsWith(']')) bad(spec, "an IPv6 address needs its closing ']'");
    rest.s = rest.s.slice(1);
  } else {
    hostname = takeUntil(rest, /[/: \t,]/);
  }
  if (!hostname) bad(spec, 'expected a host name');
  // distcc accepts the limit before or after the port: host/4:3632 and host:3632/4.
  let slots = takeMultiplier(spec, rest);
  let port = DISTCC_PORT;
  if (rest.s.startsWith(':')) {
    const m = /^:(\d+)/.exec(rest.s);
    if (!m || Number(m[1]) < 1 || Number(m[1]) > 65535) bad(spec, 'expected a port number after :');
    port = Number(m![1]);
    rest.s = rest.s.slice(m![0].length);
  }
  slots = takeMultiplier(spec, rest) ?? slots ?? TCP_SLOTS;
  const options = takeOptions(spec, rest);
  if (rest.s !== '') bad(spec, `unexpected '${rest.s}'`);
  return { spec, mode: 'tcp', hostname, port, slots, ...options };
}

/** `/N` or `=N` at the start of `rest`, N > 0 (distcc's dcc_parse_multiplier). */
function takeMultiplier(spec: string, rest: { s: string }): number | undefined {
  if (!rest.s.startsWith('/') && !rest.s.startsWith('=')) return undefined;
  const m = /^[/=](\d+)/.exec(rest.s);
  if (!m || Number(m[1]) === 0) bad(spec, 'expected a limit /N with N above 0');
  rest.s = rest.s.slice(m![0].length);
  return Number(m![1]);
}

function multiplier(token: string, at: number): number | undefined {
  const m = /^[/=](\d+)$/.exec(token.slice(at));
  return m && Number(m[1]) > 0 ? Number(m[1]) : undefined;
}

function takeOptions(spec: string, rest: { s: string }): { lzo: boolean; pump: boolean; down: boolean } {
  const o = { lzo: false, pump: false, down: false };
  while (rest.s.startsWith(',')) {
    const m = /^,(lzo|cpp|down|auth(?:=[^/:,\s]*)?)/.exec(rest.s);
    if (!m) bad(spec, `unknown option '${rest.s.split(',')[1]}' (known: lzo, cpp, down, auth)`);
    if (m![1] === 'lzo') o.lzo = true;
    else if (m![1] === 'cpp') o.pump = true;
    else if (m![1] === 'down') o.down = true;
    rest.s = rest.s.slice(m![0].length);
  }
  if (o.pump && !o.lzo) bad(spec, "pump mode (',cpp') requires compression (',lzo')");
  return o;
}

function takeUntil(rest: { s: string }, stop: RegExp): string {
  const i = rest.s.search(stop);
  const word = i < 0 ? rest.s : rest.s.slice(0, i);
  rest.s = i < 0 ? '' : rest.s.slice(i);
  return word;
}

function bad(spec: string, problem: string): never {
  throw new DistccHostError(`bad host '${spec}': ${problem}`);
}
