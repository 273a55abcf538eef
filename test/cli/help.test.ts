/**
 * `cairn help COMMAND`: every command a user can run has help with at least one example command
 * line, and a command with subcommands lists them. The list of commands comes from the program
 * itself, so a new command without examples fails here.
 */
import type { Command } from 'commander';
import { describe, expect, it } from 'vitest';
import { buildProgram, run } from '../../src/cli/main.js';
import { makeIo } from './helpers.js';

function leaves(c: Command, path: string[] = []): string[][] {
  if (c.commands.length === 0) return [path];
  return c.commands.filter((s) => s.name() !== 'help').flatMap((s) => leaves(s, [...path, s.name()]));
}

const { program } = buildProgram(makeIo());
const commands = leaves(program);
const groups = program.commands.filter((c) => c.commands.length > 0);

describe('cairn help COMMAND', () => {
  it('knows the commands', () => {
    expect(commands.length).toBeGreaterThan(20);
  });

  it.each(commands.map((p) => [p.join(' ')]))('%s: help with examples that run cairn', async (path) => {
    const io = makeIo();
    expect(await run(['help', ...path.split(' ')], io)).toBe(0);
    expect(io.out()).toMatch(new RegExp(`^Usage: cairn ${path}`, 'm'));
    expect(io.out()).toMatch(/\nExamples:\n(\s+.*\n)*?\s+(\S+ \| )?cairn /);
  });

  it.each(groups.map((g) => [g.name(), g.commands.map((c) => c.name())] as const))('%s: lists its subcommands', async (name, subs) => {
    const io = makeIo();
    expect(await run(['help', name], io)).toBe(0);
    for (const s of subs) expect(io.out()).toMatch(new RegExp(`^\\s+${s}\\b`, 'm'));
  });
});
