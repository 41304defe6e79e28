"""``python -m headwater``: the same command line as the ``headwater`` script."""

from headwater.cli import main

main()
