/**
 * Apache Curator 5.4 for interop tests: Debian's jars (libcurator-recipes-java), the reason a test
 * must be skipped when java, javac or a jar is missing, and a javac step into a temporary directory.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** The class path Curator's recipes need (with slf4j's no-op binding: no log noise on stdout). */
export const CURATOR_JARS = [
  'curator-recipes',
  'curator-framework',
  'curator-client',
  'zookeeper',
  'zookeeper-jute',
  'guava',
  'slf4j-api',
  'slf4j-nop',
].map((name) => `/usr/share/java/${name}.jar`);

/** Why Curator programs cannot run here (and what to install), or undefined when they can. */
export function curatorMissing(): string | undefined {
  for (const tool of ['java', 'javac']) {
    try {
      execFileSync(tool, ['-version'], { stdio: 'ignore' });
    } catch {
      return `${tool} is not installed (apt-get install default-jdk-headless)`;
    }
  }
  const absent = CURATOR_JARS.filter((jar) => !existsSync(jar));
  return absent.length ? `missing ${absent.join(', ')} (apt-get install libcurator-recipes-java)` : undefined;
}

/** Compiles `source` (a .java file) against Curator into a new temporary directory. */
export function compileCurator(source: string): { classPath: string; remove(): void } {
  const classes = mkdtempSync(join(tmpdir(), 'rxzk-curator-'));
  execFileSync('javac', ['-d', classes, '-cp', CURATOR_JARS.join(':'), source], { stdio: 'inherit' });
  return {
    classPath: `${CURATOR_JARS.join(':')}:${classes}`,
    remove: () => rmSync(classes, { recursive: true, force: true }),
  };
}
