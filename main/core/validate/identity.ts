/**
 * Does a patient on the disc look like the person the upload link was made for? Names are
 * matched tolerantly, because the same person is written many ways across systems and
 * character sets; birth dates are matched exactly. Pure functions: the link client hands in
 * the expected patient, the scan hands in what the headers say.
 */

export interface ExpectedPatient {
  /** As the portal knows it: 'Jane Doe', 'Doe, Jane', 'DOE^JANE', 'Müller^Jürgen=…'. */
  readonly expectedName: string;
  /** 'YYYY-MM-DD' or 'YYYYMMDD'. */
  readonly expectedBirthDate: string;
}

export interface IdentityCheck {
  /** 'unknown' when the disc's value is empty (or the expected one is). */
  readonly name: 'match' | 'mismatch' | 'unknown';
  readonly birthDate: 'match' | 'mismatch' | 'unknown';
}

interface NameParts {
  /** Family name tokens, normalised. */
  readonly family: readonly string[];
  /** Given and middle name tokens, in order. */
  readonly given: readonly string[];
}

/** Letters without case or accents, ligatures spelled out, punctuation gone (UAX #15 NFKD). */
export function normaliseNameToken(text: string): string {
  return text
    .normalize('NFKD')
    .replace(/\p{M}/gu, '')
    .toLowerCase()
    .replace(/ß/gu, 'ss')
    .replace(/æ/gu, 'ae')
    .replace(/œ/gu, 'oe')
    .replace(/[øǿ]/gu, 'o')
    .replace(/[łŀ]/gu, 'l')
    .replace(/[đð]/gu, 'd')
    .replace(/þ/gu, 'th')
    .replace(/ı/gu, 'i')
    .replace(/['’‘`´.]/gu, '');
}

function tokens(text: string): string[] {
  return normaliseNameToken(text)
    .split(/[\s,\-‐_/]+/u)
    .filter((token) => token !== '');
}

/**
 * The readings of a name: each PN component group (alphabetic, ideographic, phonetic; PS3.5
 * 6.2.1) is one, 'Family, Given' another; free text 'Given Family' can be split anywhere, so each
 * split is a reading ('Jean Claude Van Damme': family may be 'damme', 'van damme', …).
 */
function readings(name: string): NameParts[] {
  const result: NameParts[] = [];
  for (const group of name.split('=')) {
    if (group.trim() === '') continue;
    if (group.includes('^')) {
      const [family = '', given = '', middle = ''] = group.split('^');
      result.push({ family: tokens(family), given: [...tokens(given), ...tokens(middle)] });
    } else if (group.includes(',')) {
      const comma = group.indexOf(',');
      result.push({
        family: tokens(group.slice(0, comma)),
        given: tokens(group.slice(comma + 1)),
      });
    } else {
      const all = tokens(group);
      if (all.length <= 1) {
        // One word: a family name alone (PN 'DOE'), or a name with no spaces in a CJK script.
        result.push({ family: all, given: [] });
        continue;
      }
      for (let start = 0; start < all.length; start++) {
        for (let end = start + 1; end <= all.length; end++) {
          const given = [...all.slice(0, start), ...all.slice(end)];
          if (given.length === 0) continue;
          result.push({ family: all.slice(start, end), given });
        }
      }
    }
  }
  return result;
}

function sameFamily(a: readonly string[], b: readonly string[]): boolean {
  // 'van der Berg', 'VANDERBERG' and 'Van-der-Berg' are one family name.
  return a.length > 0 && a.join('') === b.join('');
}

/**
 * Given names agree when every name of the shorter list is in the longer one (extra middle
 * names, or a middle name used as the first), with initials matching a name of that letter;
 * at least one must be spelled out on both sides.
 */
function sameGiven(a: readonly string[], b: readonly string[]): boolean {
  if (a.length === 0 && b.length === 0) return true;
  if (a.length === 0 || b.length === 0) return false;
  // 'JeanPaul' and 'Jean Paul' are one given name.
  if (a.join('') === b.join('')) return true;
  const [shorter, longer] = a.length <= b.length ? [a, b] : [b, a];
  let spelledOut = false;
  const available = [...longer];
  for (const token of shorter) {
    let index = available.indexOf(token);
    if (index >= 0) {
      if (token.length > 1) spelledOut = true;
    } else if (token.length === 1) {
      index = available.findIndex((candidate) => candidate.startsWith(token));
    } else {
      index = available.findIndex(
        (candidate) => candidate.length === 1 && token.startsWith(candidate),
      );
    }
    if (index < 0) return false;
    available.splice(index, 1);
  }
  return spelledOut;
}

/** Do two names designate the same person, as far as a name can tell? */
export function namesMatch(onDisc: string, expected: string): boolean {
  const discReadings = readings(onDisc);
  const expectedReadings = readings(expected);
  for (const disc of discReadings) {
    for (const wanted of expectedReadings) {
      if (sameFamily(disc.family, wanted.family) && sameGiven(disc.given, wanted.given))
        return true;
      // A single-word reading on one side ('山田太郎', 'Madonna') against the whole other side.
      if (
        disc.given.length === 0 &&
        wanted.given.length === 0 &&
        sameFamily(disc.family, wanted.family)
      ) {
        return true;
      }
    }
  }
  // Ideographic names are often written without separators on one side and with on the other.
  const squash = (name: string): string[] =>
    name
      .split('=')
      .map((group) => tokens(group.replace(/\^/gu, ' ')).join(''))
      .filter((group) => group !== '');
  const discSquashed = squash(onDisc);
  return squash(expected).some(
    (wanted) =>
      /[^\p{Script=Latin}\p{Script=Common}]/u.test(wanted) && discSquashed.includes(wanted),
  );
}

/** 'YYYYMMDD' from DA ('19700101', old 'YYYY.MM.DD') or ISO 8601 ('1970-01-01'). */
export function normaliseBirthDate(text: string): string | undefined {
  const digits = text.trim().replace(/[-./]/gu, '');
  return /^\d{8}$/u.test(digits) ? digits : undefined;
}

/** Checks one patient of the disc against the patient the link was made for. */
export function checkIdentity(
  onDisc: { readonly name: string; readonly birthDate: string },
  expected: ExpectedPatient,
): IdentityCheck {
  const discName = onDisc.name.replace(/[\^=\s]/gu, '');
  const name =
    discName === '' || expected.expectedName.trim() === ''
      ? 'unknown'
      : namesMatch(onDisc.name, expected.expectedName)
        ? 'match'
        : 'mismatch';
  const discDate = normaliseBirthDate(onDisc.birthDate);
  const wantedDate = normaliseBirthDate(expected.expectedBirthDate);
  const birthDate =
    discDate === undefined || wantedDate === undefined
      ? onDisc.birthDate.trim() !== '' && wantedDate !== undefined
        ? 'mismatch' // a value that is not a date cannot be the expected date
        : 'unknown'
      : discDate === wantedDate
        ? 'match'
        : 'mismatch';
  return { name, birthDate };
}
