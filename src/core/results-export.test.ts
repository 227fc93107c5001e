import { describe, expect, it } from 'vitest';
import {
  batchResultColumns,
  csvField,
  toCsv,
  toJson,
  type BatchResultRow,
  type CsvColumn,
} from './results-export';
import { parseCsvRows } from '../node/csv';

describe('csvField', () => {
  it('leaves plain text alone', () => {
    expect(csvField('tench')).toBe('tench');
    expect(csvField("Cassin's Finch")).toBe("Cassin's Finch");
    expect(csvField('')).toBe('');
  });

  it('quotes commas, quotes and line breaks (RFC 4180)', () => {
    expect(csvField('tench, Tinca tinca')).toBe('"tench, Tinca tinca"');
    expect(csvField('the "big" one')).toBe('"the ""big"" one"');
    expect(csvField('two\nlines')).toBe('"two\nlines"');
    expect(csvField('two\r\nlines')).toBe('"two\r\nlines"');
    expect(csvField('"')).toBe('""""');
  });

  it('quotes semicolons for spreadsheets that split on them', () => {
    expect(csvField('a;b')).toBe('"a;b"');
  });

  it('defuses cells that a spreadsheet would run as a formula', () => {
    expect(csvField('=1+2')).toBe("'=1+2");
    expect(csvField('+1')).toBe("'+1");
    expect(csvField('-1')).toBe("'-1");
    expect(csvField('@SUM(A1)')).toBe("'@SUM(A1)");
    expect(csvField('\t=cmd')).toBe("'\t=cmd");
    expect(csvField('\r=cmd')).toBe('"\'\r=cmd"');
    expect(csvField('=HYPERLINK("http://x","y")')).toBe('"\'=HYPERLINK(""http://x"",""y"")"');
    expect(csvField('=1,2')).toBe('"\'=1,2"');
  });

  it('does not defuse a formula sign that is not first', () => {
    expect(csvField('a=b')).toBe('a=b');
    expect(csvField('red-tailed hawk')).toBe('red-tailed hawk');
  });

  it('writes numbers and booleans as they are, empty for missing values', () => {
    expect(csvField(-0.5)).toBe('-0.5');
    expect(csvField(42)).toBe('42');
    expect(csvField(Number.NaN)).toBe('');
    expect(csvField(Number.POSITIVE_INFINITY)).toBe('');
    expect(csvField(true)).toBe('true');
    expect(csvField(null)).toBe('');
    expect(csvField(undefined)).toBe('');
  });
});

describe('toCsv', () => {
  interface Row {
    name: string;
    count: number | null;
  }
  const columns: CsvColumn<Row>[] = [
    { header: 'name', value: (row) => row.name },
    { header: 'count', value: (row) => row.count },
  ];

  it('writes a header and one CRLF-terminated record per row', () => {
    const csv = toCsv(
      [
        { name: 'a, b', count: 1 },
        { name: '=evil()', count: null },
      ],
      columns,
    );
    expect(csv).toBe('name,count\r\n"a, b",1\r\n\'=evil(),\r\n');
  });

  it('writes only the header for no rows', () => {
    expect(toCsv([], columns)).toBe('name,count\r\n');
  });

  it('starts with a UTF-8 BOM when asked', () => {
    const csv = toCsv([{ name: 'Anna\u2019s Eighty-eight', count: 1 }], columns, { bom: true });
    expect(csv.startsWith('\uFEFFname,count\r\n')).toBe(true);
    expect(new TextEncoder().encode(csv).slice(0, 3)).toEqual(new Uint8Array([0xef, 0xbb, 0xbf]));
    expect(toCsv([], columns).startsWith('\uFEFF')).toBe(false);
  });

  it('protects the header too', () => {
    const csv = toCsv([], [{ header: '=x', value: () => '' }]);
    expect(csv).toBe("'=x\r\n");
  });
});

describe('toJson', () => {
  it('writes pretty JSON with a final newline', () => {
    expect(toJson([{ a: 1 }])).toBe('[\n  {\n    "a": 1\n  }\n]\n');
    expect(JSON.parse(toJson([{ file: 'x,y.jpg', p: 0.5 }]))).toEqual([
      { file: 'x,y.jpg', p: 0.5 },
    ]);
    expect(toJson([])).toBe('[]\n');
  });
});

describe('batchResultColumns', () => {
  const candidates = [
    ['Cyanocitta cristata (Blue Jay)', 'Blue Jay', 'Cyanocitta cristata', 0.81],
    ['Aphelocoma californica (California Scrub-Jay)', 'California Scrub-Jay', null, 0.1],
    ['Sialia sialis (Eastern Bluebird)', 'Eastern Bluebird', 'Sialia sialis', 0.04],
    ['Passerina cyanea (Indigo Bunting)', 'Indigo Bunting', 'Passerina cyanea', 0.02],
    ['Pica pica (Eurasian Magpie)', 'Eurasian Magpie', 'Pica pica', 0.01],
  ] as const;
  const jay: BatchResultRow = {
    file: 'trip/jay.jpg',
    status: 'animal',
    label: candidates[0][0],
    name: 'Blue Jay',
    probability: 0.81,
    model: 'inat-birds-mobilenet-v2@abc123',
    backend: 'wasm',
    ms: 80.04,
    errorCode: null,
    top: candidates.map(([label, name, scientificName, probability]) => ({
      label,
      name,
      scientificName,
      probability,
    })),
    answer: {
      kind: 'species',
      name: 'Blue Jay',
      scientificName: 'Cyanocitta cristata',
      path: ['animal', 'bird', 'Cyanocitta'],
      probability: 0.81,
    },
    via: { model: 'imagenet-mobilenet-v2@1a2b3c4d', group: 'bird', probability: 0.97 },
    verdict: 'corrected',
    correctedLabel: candidates[1][0],
    freeTextName: null,
  };
  const ok: BatchResultRow = {
    file: 'photos/tench.jpg',
    status: 'animal',
    label: 'tench, Tinca tinca',
    name: 'tench',
    probability: 0.912345,
    model: 'imagenet-mobilenet-v2@1a2b3c4d',
    backend: 'wasm',
    ms: 54.321,
    errorCode: null,
    top: [
      {
        label: 'tench, Tinca tinca',
        name: 'tench',
        scientificName: 'Tinca tinca',
        probability: 0.912345,
      },
    ],
    answer: null,
    via: null,
    verdict: null,
    correctedLabel: null,
    freeTextName: null,
  };
  const failed: BatchResultRow = {
    ...ok,
    file: '=cmd|"/c calc"!A1.jpg',
    status: 'error',
    label: null,
    name: null,
    probability: null,
    ms: null,
    errorCode: 'DECODE_FAILED',
    top: [],
  };
  const headers = batchResultColumns.map((column) => column.header);
  const record = (row: BatchResultRow) => parseCsvRows(toCsv([row], batchResultColumns))[0]!;

  it('keeps the original columns first, in their order', () => {
    expect(headers.slice(0, 9)).toEqual([
      'file',
      'status',
      'label',
      'name',
      'probability',
      'model',
      'backend',
      'ms',
      'errorCode',
    ]);
    expect(new Set(headers).size).toBe(headers.length);
  });

  it('exports a batch as CSV with fixed decimals', () => {
    const lines = toCsv([ok, failed], batchResultColumns).split('\r\n');
    expect(
      lines[1]!.startsWith(
        'photos/tench.jpg,animal,"tench, Tinca tinca",tench,0.9123,imagenet-mobilenet-v2@1a2b3c4d,wasm,54.3,,Tinca tinca,',
      ),
    ).toBe(true);
    expect(
      lines[2]!.startsWith(
        '"\'=cmd|""/c calc""!A1.jpg",error,,,,imagenet-mobilenet-v2@1a2b3c4d,wasm,,DECODE_FAILED,',
      ),
    ).toBe(true);
    expect(lines[3]).toBe('');
  });

  it('writes the top five with label line, names and probability each', () => {
    const cells = record(jay);
    for (const [i, [label, name, scientificName, probability]] of candidates.entries()) {
      const rank = i === 0 ? '' : String(i + 1);
      expect(cells[`label${rank}`]).toBe(label);
      expect(cells[`name${rank}`]).toBe(name);
      expect(cells[`scientificName${rank}`]).toBe(scientificName ?? '');
      expect(cells[`probability${rank}`]).toBe(probability.toFixed(4));
    }
    expect(headers).not.toContain('label6');
    // Fewer candidates leave the later ranks empty.
    expect(record(ok)).toMatchObject({ label2: '', probability5: '' });
  });

  it('writes the answer with its groups, the model that answered and the one that routed', () => {
    expect(record(jay)).toMatchObject({
      model: 'inat-birds-mobilenet-v2@abc123',
      answerKind: 'species',
      answerName: 'Blue Jay',
      answerScientificName: 'Cyanocitta cristata',
      answerPath: 'animal > bird > Cyanocitta',
      answerProbability: '0.8100',
      viaModel: 'imagenet-mobilenet-v2@1a2b3c4d',
      viaGroup: 'bird',
      viaProbability: '0.9700',
      verdict: 'corrected',
      correctedLabel: candidates[1][0],
      freeTextName: '',
    });
    expect(record(ok)).toMatchObject({ answerKind: '', answerPath: '', viaModel: '' });
  });

  it('writes a group answer with the group last on its path', () => {
    const finch: BatchResultRow = {
      ...jay,
      status: 'not-sure',
      answer: {
        kind: 'group',
        name: 'finch',
        scientificName: null,
        path: ['animal', 'bird', 'finch'],
        probability: 0.86,
      },
      via: null,
      verdict: null,
      correctedLabel: null,
    };
    expect(record(finch)).toMatchObject({
      status: 'not-sure',
      answerKind: 'group',
      answerName: 'finch',
      answerPath: 'animal > bird > finch',
      answerProbability: '0.8600',
      viaModel: '',
      verdict: '',
    });
  });

  it('pads probabilities to four decimals', () => {
    const rows = [1, 0.00004, 0.123456].map((probability) => ({
      ...ok,
      label: 'tench',
      probability,
    }));
    const records = toCsv(rows, batchResultColumns).trim().split('\r\n').slice(1);
    expect(records.map((record) => record.split(',')[4])).toEqual(['1.0000', '0.0000', '0.1235']);
  });

  it('keeps the structure in JSON, with the original keys', () => {
    const [parsed] = JSON.parse(toJson([jay])) as Record<string, unknown>[];
    expect(parsed).toEqual(jay);
    expect(parsed).toMatchObject({ label: candidates[0][0], probability: 0.81 });
  });
});
