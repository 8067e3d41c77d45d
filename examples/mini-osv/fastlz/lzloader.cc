/* The decompressing loader linked in front of the compressed kernel. */
extern "C" const unsigned char _binary_loader_stripped_elf_lz_start[];
extern "C" const unsigned char _binary_loader_stripped_elf_lz_end[];

extern "C" unsigned long uncompressed_size()
{
    unsigned long n = 0;
    for (const unsigned char *p = _binary_loader_stripped_elf_lz_start; p + 1 < _binary_loader_stripped_elf_lz_end; p += 2) {
        n += *p;
    }
    return n;
}
