// Run-length coding: pairs of (count, byte), count 1..255.
#include <vector>

std::vector<unsigned char> compress(const std::vector<unsigned char> &in)
{
    std::vector<unsigned char> out;
    for (std::size_t i = 0; i < in.size();) {
        std::size_t n = 1;
        while (i + n < in.size() && n < 255 && in[i + n] == in[i]) {
            n++;
        }
        out.push_back(static_cast<unsigned char>(n));
        out.push_back(in[i]);
        i += n;
    }
    return out;
}
