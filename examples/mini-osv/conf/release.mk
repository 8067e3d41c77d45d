# Settings for mode=release.
conf-opt = -O2
conf-defines = -DNDEBUG
