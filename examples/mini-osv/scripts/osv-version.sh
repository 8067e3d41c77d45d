#!/bin/sh
# The tree's version from its own git repository (the tree's .git only);
# "unknown" outside of one.
GITDIR=$(dirname $0)/../.git
git --git-dir $GITDIR describe --tags --always 2>/dev/null || echo unknown
