/* Symbol visibility helpers.  With conf_hide_symbols=1 the kernel is built
 * with -fvisibility=hidden, so anything applications may call must be marked. */
#ifndef OSV_EXPORT_H
#define OSV_EXPORT_H

#define OSV_API     __attribute__((visibility("default")))
#define OSV_HIDDEN  __attribute__((visibility("hidden")))

#if defined(HIDE_SYMBOLS) && HIDE_SYMBOLS
#define OSV_DEBUG_API OSV_HIDDEN
#else
#define OSV_DEBUG_API OSV_API
#endif

#endif /* OSV_EXPORT_H */
