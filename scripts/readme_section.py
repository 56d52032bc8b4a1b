"""Replace one `<!-- section:NAME -->` block of README.md with the text on stdin.

    python scripts/readme_section.py NAME < text.md
"""

import pathlib
import re
import sys

name = sys.argv[1]
readme = pathlib.Path(__file__).resolve().parent.parent / "README.md"
text = readme.read_text()
pattern = re.compile(rf"(<!-- section:{name} -->\n).*?(<!-- /section:{name} -->)", re.S)
if not pattern.search(text):
    sys.exit(f"README.md has no section {name!r}")
body = sys.stdin.read().rstrip("\n") + "\n"
readme.write_text(pattern.sub(lambda m: m.group(1) + body + m.group(2), text))
