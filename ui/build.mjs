// Builds the operator's screen into ui/dist: TypeScript through the pinned compiler, then the
// static files. Installs the compiler from package-lock.json on first use. The desktop
// crate's build script runs this, so `cargo build` is all a developer types.
import { execFileSync } from "node:child_process";
import { cpSync, existsSync, mkdirSync, rmSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const tsc = join(here, "node_modules", "typescript", "bin", "tsc");

if (!existsSync(tsc)) {
  execFileSync("npm", ["ci", "--no-audit", "--no-fund", "--prefer-offline"], { cwd: here, stdio: "inherit" });
}
rmSync(join(here, "dist"), { recursive: true, force: true });
mkdirSync(join(here, "dist"));
execFileSync(process.execPath, [tsc, "-p", here], { cwd: here, stdio: "inherit" });
cpSync(join(here, "public"), join(here, "dist"), { recursive: true });
