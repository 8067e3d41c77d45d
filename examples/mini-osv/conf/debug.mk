# Settings for mode=debug: no optimization, assertions on.
conf-opt = -O0
conf-defines = -DDEBUG_BUILD=1
