// Entry point of the single executable (Node's single executable applications run one CommonJS
// script): the same main() as the npm launcher and the single-file build.
import { main } from '../src/cli.ts';

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(
      `resistro: internal error\n${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
    );
    process.exit(70);
  },
);
