#!/bin/sh
# Container (and plain) entrypoint: migrate, then hand the process over to `taizhang`.
# With no arguments it runs the bot; any arguments are a taizhang subcommand (doctor, backup …).
set -eu
if [ "$#" -eq 0 ]; then
  set -- run
fi
if [ "$1" = run ]; then
  taizhang db upgrade >/dev/null
fi
exec taizhang "$@"
