import sys

from chalicelib.local.runtime import main

sys.exit(main())
