"""Print set-up command N of README.md (the N-th ```sh block of its '## Set-up' section).

.ci/run runs these very lines, so the README cannot drift from what CI tests."""
import pathlib
import re
import sys

readme = pathlib.Path(__file__).resolve().parents[1] / "README.md"
section = re.search(r"^## Set-up\n(.*?)(?=^## )", readme.read_text(encoding="utf-8"), re.S | re.M)
if not section:
    sys.exit("README.md has no '## Set-up' section")
blocks = re.findall(r"^[ \t]*```sh\n(.*?)^[ \t]*```", section.group(1), re.S | re.M)
n = int(sys.argv[1])
if len(blocks) < n:
    sys.exit(f"README.md's set-up section has {len(blocks)} command blocks, not {n}")
print("\n".join(line.strip() for line in blocks[n - 1].splitlines() if line.strip()))
