/** Creates the embedded database in the folder named by the first argument, schema included, and exits. */
import { openPgliteInProcess } from '../db/connect';

const dataDir = process.argv[2];
if (!dataDir) throw new Error('usage: create-embedded-database.ts <data folder>');
openPgliteInProcess(dataDir)
  .then((database) => database.close())
  .catch((error: unknown) => {
    console.error(error);
    process.exit(1);
  });
