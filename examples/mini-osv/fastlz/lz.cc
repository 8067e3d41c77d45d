// lz FILE: a host tool that compresses FILE into FILE.lz (run-length
// coding, see fastlz.cc), as OSv's fastlz/lz compresses the kernel.
#include <cstdio>
#include <string>
#include <vector>

std::vector<unsigned char> compress(const std::vector<unsigned char> &in);

int main(int argc, char **argv)
{
    if (argc != 2) {
        std::fprintf(stderr, "usage: %s FILE\n", argv[0]);
        return 2;
    }
    std::FILE *f = std::fopen(argv[1], "rb");
    if (!f) {
        std::perror(argv[1]);
        return 1;
    }
    std::vector<unsigned char> in;
    int c;
    while ((c = std::fgetc(f)) != EOF) {
        in.push_back(static_cast<unsigned char>(c));
    }
    std::fclose(f);
    std::vector<unsigned char> out = compress(in);
    std::string name = std::string(argv[1]) + ".lz";
    std::FILE *o = std::fopen(name.c_str(), "wb");
    if (!o || std::fwrite(out.data(), 1, out.size(), o) != out.size() || std::fclose(o) != 0) {
        std::perror(name.c_str());
        return 1;
    }
    return 0;
}
