import { describe, expect, it } from 'vitest';

import { checkIdentity, namesMatch } from '../../../main/core/validate/identity.ts';

describe('namesMatch: the same person written many ways', () => {
  it.each([
    ['DOE^JOHN', 'John Doe', 'PN against free text, given first'],
    ['DOE^JOHN', 'Doe, John', "'Family, Given'"],
    ['DOE^JOHN', 'doe john', 'free text, family first, lower case'],
    ['Doe^John', 'DOE^JOHN', 'case'],
    ['MÜLLER^JÜRGEN', 'Jurgen Muller', 'diacritics'],
    ['Müller^Jürgen', 'JÜRGEN MÜLLER', 'diacritics both sides'],
    ['STRAẞE^GRETA', 'Greta Strasse', 'sharp s'],
    ['DOE^JOHN^PAUL', 'John Doe', 'extra middle name on the disc'],
    ['DOE^JOHN', 'John Paul Doe', 'extra middle name in the link'],
    ['DOE^JOHN^PAUL', 'Paul Doe', 'known by the middle name'],
    ['DOE^JOHN^P', 'John P. Doe', 'middle initial'],
    ['VAN DER BERG^ANNA', 'Anna van der Berg', 'family name in several words'],
    ['VANDERBERG^ANNA', 'Anna Van-der-Berg', 'compound family name joined'],
    ["O'BRIEN^SEAN", 'Sean OBrien', 'apostrophe'],
    ['DOE^JOHN^^DR^JR', 'John Doe', 'prefix and suffix ignored'],
    ['Yamada^Tarou=山田^太郎=やまだ^たろう', '山田 太郎', 'ideographic group'],
    ['Yamada^Tarou=山田^太郎=やまだ^たろう', '山田太郎', 'ideographic, no separator'],
    ['Yamada^Tarou=山田^太郎=やまだ^たろう', 'Tarou Yamada', 'alphabetic group'],
    ['Hong^Gildong=洪^吉洞=홍^길동', '홍길동', 'phonetic (hangul) group'],
    ['Wang^XiaoDong=王^小東=', 'Xiaodong Wang', 'Chinese, empty phonetic group'],
  ])('%s ~ %s (%s)', (onDisc, expected) => {
    expect(namesMatch(onDisc, expected)).toBe(true);
  });

  it.each([
    ['DOE^JOHN', 'Jane Doe', 'another given name'],
    ['DOE^JOHN', 'John Smith', 'another family name'],
    ['DOE^J', 'John Doe', 'initial only: not enough to say'],
    ['DOE', 'John Doe', 'family name only'],
    ['Yamada^Tarou=山田^太郎', '山田 花子', 'another given name in kanji'],
    ['SMITH^ANNA^MARIA', 'Maria Anna Jones', 'given names alike, family differs'],
  ])('%s !~ %s (%s)', (onDisc, expected) => {
    expect(namesMatch(onDisc, expected)).toBe(false);
  });
});

describe('checkIdentity', () => {
  const expected = { expectedName: 'Jane Doe', expectedBirthDate: '1970-01-01' };

  it('matches the birth date exactly, ISO or DA', () => {
    expect(checkIdentity({ name: 'DOE^JANE', birthDate: '19700101' }, expected)).toEqual({
      name: 'match',
      birthDate: 'match',
    });
    expect(
      checkIdentity(
        { name: 'DOE^JANE', birthDate: '19700101' },
        { ...expected, expectedBirthDate: '19700101' },
      ),
    ).toEqual({ name: 'match', birthDate: 'match' });
    expect(checkIdentity({ name: 'DOE^JANE', birthDate: '19700102' }, expected).birthDate).toBe(
      'mismatch',
    );
    expect(checkIdentity({ name: 'DOE^JANE', birthDate: '1970.01.01' }, expected).birthDate).toBe(
      'match',
    );
  });

  it('says unknown when the disc has no value, mismatch when it has garbage', () => {
    expect(checkIdentity({ name: '', birthDate: '' }, expected)).toEqual({
      name: 'unknown',
      birthDate: 'unknown',
    });
    expect(checkIdentity({ name: '^', birthDate: 'unknown' }, expected)).toEqual({
      name: 'unknown',
      birthDate: 'mismatch',
    });
  });
});
