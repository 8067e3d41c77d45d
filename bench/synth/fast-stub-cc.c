/*
 * fast-stub-cc: scripts/stub-cc (the awk stub) in C, for benchmarks at 10,000 TUs and more.
 *
 * The awk stub costs 15-25 ms of CPU per compile (sh, awk, following ~17 headers), which is the
 * tool's whole scheduling budget many times over; this one costs about 1 ms, so what a benchmark
 * measures is the build tool, as in tup's "tup vs mordor". Same command lines, same behaviour:
 *
 *   fast-stub-cc [gcc options] -c -o OBJ SOURCE    follows #include lines like gcc (the including
 *       file's folder for "...", then -iquote, -I, -isystem in order; -include files from the
 *       working folder first), writes the depfile gcc writes for -MD/-MMD (-MT, -MQ, -MF, -MP),
 *       and to OBJ one line with a checksum of the flags and of every file read;
 *   fast-stub-cc [ld options] -o OUT OBJ... [@RSP] writes a checksum of the input objects;
 *   fast-stub-cc -print-file-name=NAME             prints NAME.
 *
 * The checksum differs from the awk stub's (FNV-1a, 64 bits); the depfiles are the same.
 * Built by the benchmark with `gcc -O2 -o <tree>/scripts/fast-stub-cc fast-stub-cc.c`; its name
 * ends in `-cc` so that osvd classifies it as a compiler.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define MAXV 262144

static unsigned long long h = 1469598103934665603ULL;
static const char *I[MAXV], *S[MAXV], *Q[MAXV], *F[MAXV], *inputs[MAXV], *rsp[MAXV], *mt[MAXV];
static int nI, nS, nQ, nF, nIn, nR, nMt;
static char **deps;
static int ndeps, capdeps;

static void fail(const char *a, const char *b) {
    fprintf(stderr, "stub-cc: %s%s\n", a, b ? b : "");
    exit(1);
}

static void hashbytes(const char *p, size_t n) {
    for (size_t i = 0; i < n; i++) { h ^= (unsigned char)p[i]; h *= 1099511628211ULL; }
}

static int isfile(const char *p) {
    struct stat st;
    return stat(p, &st) == 0 && S_ISREG(st.st_mode);
}

static char *join(const char *d, const char *n) {
    char *r;
    if (d[0] == 0 || strcmp(d, ".") == 0) return strdup(n);
    r = malloc(strlen(d) + strlen(n) + 2);
    sprintf(r, "%s/%s", d, n);
    return r;
}

static char *dirof(const char *p) {
    const char *s = strrchr(p, '/');
    if (!s) return strdup(".");
    if (s == p) return strdup("/");
    return strndup(p, (size_t)(s - p));
}

static char *resolve(const char *name, int quoted, const char *dir) {
    char *p;
    int i;
    if (name[0] == '/') return isfile(name) ? strdup(name) : NULL;
    if (quoted) {
        p = join(dir, name);
        if (isfile(p)) return p;
        free(p);
        for (i = 0; i < nQ; i++) { p = join(Q[i], name); if (isfile(p)) return p; free(p); }
    }
    for (i = 0; i < nI; i++) { p = join(I[i], name); if (isfile(p)) return p; free(p); }
    for (i = 0; i < nS; i++) { p = join(S[i], name); if (isfile(p)) return p; free(p); }
    return NULL;
}

/* A small open-addressing set of the files already read. */
static char **seen;
static size_t seencap = 1024;

static int add(char *p) {
    unsigned long long x = 1469598103934665603ULL;
    size_t i;
    if (!seen) seen = calloc(seencap, sizeof *seen);
    for (const char *c = p; *c; c++) { x ^= (unsigned char)*c; x *= 1099511628211ULL; }
    for (i = x & (seencap - 1); seen[i]; i = (i + 1) & (seencap - 1))
        if (strcmp(seen[i], p) == 0) return 0;
    seen[i] = p;
    if (ndeps == capdeps) { capdeps = capdeps ? capdeps * 2 : 64; deps = realloc(deps, capdeps * sizeof *deps); }
    deps[ndeps++] = p;
    if ((size_t)ndeps * 2 > seencap) fail("too many files read", NULL);
    return 1;
}

static char *slurp(const char *file, size_t *len) {
    int fd = open(file, O_RDONLY);
    struct stat st;
    char *buf;
    ssize_t got;
    size_t off = 0;
    if (fd < 0 || fstat(fd, &st) != 0) fail("cannot read ", file);
    buf = malloc((size_t)st.st_size + 1);
    while (off < (size_t)st.st_size && (got = read(fd, buf + off, (size_t)st.st_size - off)) > 0) off += (size_t)got;
    close(fd);
    buf[off] = 0;
    *len = off;
    return buf;
}

static void scan(const char *file) {
    size_t len;
    char *text = slurp(file, &len), *line = text, *dir = dirof(file);
    hashbytes(text, len);
    while (line < text + len) {
        char *end = strchr(line, '\n'), *c = line;
        if (end) *end = 0;
        while (*c == ' ' || *c == '\t') c++;
        if (*c == '#') {
            c++;
            while (*c == ' ' || *c == '\t') c++;
            if (strncmp(c, "include", 7) == 0) {
                c += 7;
                while (*c == ' ' || *c == '\t') c++;
                if (*c == '"' || *c == '<') {
                    int quoted = *c == '"';
                    char *close = strchr(c + 1, quoted ? '"' : '>'), *name, *p;
                    if (!close || close == c + 1) fail("bad #include line in ", file);
                    name = strndup(c + 1, (size_t)(close - c - 1));
                    p = resolve(name, quoted, dir);
                    if (!p) { fprintf(stderr, "stub-cc: %s: fatal error: %s: No such file or directory\n", file, name); exit(1); }
                    if (add(p)) scan(p);
                    free(name);
                }
            }
        }
        if (!end) break;
        line = end + 1;
    }
    free(text);
    free(dir);
}

static void hashfile(const char *file) {
    size_t len;
    char *text = slurp(file, &len);
    hashbytes(text, len);
    free(text);
}

int main(int argc, char **argv) {
    const char *out = NULL, *mf = NULL;
    int compile = 0, md = 0, mp = 0, i, k;
    FILE *o;
    for (i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *next = i + 1 < argc ? argv[i + 1] : "";
        if (strcmp(a, "-c") == 0) compile = 1;
        else if (strcmp(a, "-o") == 0) { out = next; i++; }
        else if (strcmp(a, "-MT") == 0 || strcmp(a, "-MQ") == 0) { mt[nMt++] = next; i++; }
        else if (strcmp(a, "-MF") == 0) { mf = next; i++; }
        else if (strcmp(a, "-MD") == 0 || strcmp(a, "-MMD") == 0) md = 1;
        else if (strcmp(a, "-MP") == 0) mp = 1;
        else if (strcmp(a, "-I") == 0) { I[nI++] = next; i++; }
        else if (strncmp(a, "-I", 2) == 0) I[nI++] = a + 2;
        else if (strcmp(a, "-isystem") == 0) { S[nS++] = next; i++; }
        else if (strcmp(a, "-iquote") == 0) { Q[nQ++] = next; i++; }
        else if (strcmp(a, "-include") == 0) { F[nF++] = next; i++; }
        else if (strncmp(a, "-print-file-name=", 17) == 0) { puts(a + 17); return 0; }
        else if (!strcmp(a, "-x") || !strcmp(a, "-T") || !strcmp(a, "-z") || !strcmp(a, "-soname") || !strcmp(a, "-e") || !strcmp(a, "-L") || !strcmp(a, "-l") || !strcmp(a, "-MJ")) i++;
        else if (a[0] == '@') rsp[nR++] = a + 1;
        else if (a[0] == '-') { }
        else inputs[nIn++] = a;
        if (nI >= MAXV || nS >= MAXV || nQ >= MAXV || nF >= MAXV || nIn >= MAXV || nR >= MAXV || nMt >= MAXV) fail("too many arguments", NULL);
    }
    for (i = 1; i < argc; i++) { hashbytes(" ", 1); hashbytes(argv[i], strlen(argv[i])); }
    if (!out) fail("no -o output given", NULL);
    if (compile) {
        const char *src;
        if (nIn != 1) fail("expected one source file", NULL);
        src = inputs[0];
        if (!isfile(src)) fail(src, ": No such file or directory");
        seencap = 1024;
        add(strdup(src));
        for (k = 0; k < nF; k++) {
            char *p = isfile(F[k]) ? strdup(F[k]) : resolve(F[k], 1, ".");
            if (!p) fail(F[k], ": No such file or directory");
            if (add(p)) scan(p);
        }
        scan(src);
        if (!(o = fopen(out, "w"))) fail("cannot write ", out);
        fprintf(o, "stub-object %s %d %llu\n", src, ndeps, h);
        fclose(o);
        if (md) {
            char *dep;
            if (mf) dep = strdup(mf);
            else {
                char *dot, *slash;
                dep = malloc(strlen(out) + 3);
                strcpy(dep, out);
                dot = strrchr(dep, '.');
                slash = strrchr(dep, '/');
                if (dot && (!slash || dot > slash)) *dot = 0;
                strcat(dep, ".d");
            }
            if (!(o = fopen(dep, "w"))) fail("cannot write ", dep);
            if (nMt == 0) fputs(out, o);
            for (k = 0; k < nMt; k++) fprintf(o, "%s%s", k ? " " : "", mt[k]);
            fputc(':', o);
            for (k = 0; k < ndeps; k++) fprintf(o, " %s%s", deps[k], k < ndeps - 1 ? " \\\n" : "\n");
            if (mp) for (k = 1; k < ndeps; k++) fprintf(o, "\n%s:\n", deps[k]);
            fclose(o);
        }
        return 0;
    }
    {
        int n = 0;
        for (k = 0; k < nIn; k++) {
            size_t l = strlen(inputs[k]);
            if (l > 2 && strcmp(inputs[k] + l - 2, ".o") == 0) { hashbytes(inputs[k], l); hashfile(inputs[k]); n++; }
        }
        for (k = 0; k < nR; k++) {
            size_t len;
            char *text = slurp(rsp[k], &len), *w = strtok(text, " \t\n");
            for (; w; w = strtok(NULL, " \t\n")) { hashbytes(w, strlen(w)); hashfile(w); n++; }
            free(text);
        }
        if (!(o = fopen(out, "w"))) fail("cannot write ", out);
        fprintf(o, "stub-link %d objects %llu\n", n, h);
        fclose(o);
    }
    return 0;
}
