#!/usr/bin/env python3
# Stand-in for the GitHub Actions runner's config.sh (see ../GITHUB.md).
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.dont_write_bytecode = True
import standin  # noqa: E402

sys.exit(standin.config_main(sys.argv[1:]))
