/**
 * Pure rendering: a DriftResult (or the list of runs) in, a self-contained HTML string out.
 * Templates are handlebars files beside this module; every user-supplied string goes through
 * handlebars escaping. Rendering computes nothing about drift: it only lays out numbers.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import Handlebars from 'handlebars';
import type { DriftResult } from '../drift/result.ts';
import type { RunSummary } from '../reports/store.ts';

const hb = Handlebars.create();
const templateDir = join(import.meta.dirname, 'templates');
const load = (name: string) => hb.compile(readFileSync(join(templateDir, name), 'utf8'), { strict: false, noEscape: false });

const reportTemplate = load('report.hbs');
const indexTemplate = load('index.hbs');

export function renderReport(result: DriftResult): string {
  return reportTemplate({ result });
}

export function renderIndex(runs: RunSummary[]): string {
  return indexTemplate({ runs });
}
