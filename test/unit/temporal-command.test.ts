import { execFileSync } from 'node:child_process';
import path from 'node:path';

const root = path.resolve(__dirname, '../..');

describe('npm run temporal', () => {
  it('runs the Temporal CLI Herald uses, with the arguments given, as the README shows', () => {
    const out = execFileSync('npm', ['run', '--silent', 'temporal', '--', 'workflow', 'signal', '--help'], {
      cwd: root,
      encoding: 'utf8',
    });
    expect(out).toMatch(/--workflow-id/);
    expect(out).toMatch(/--name/);
  });

  it('passes the CLI’s exit status on', () => {
    expect(() =>
      execFileSync('npm', ['run', '--silent', 'temporal', '--', 'no-such-command'], { cwd: root, stdio: 'pipe' }),
    ).toThrow(/Command failed/);
  });
});
