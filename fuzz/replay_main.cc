// Stand-in driver for libFuzzer targets in ordinary builds: runs
// LLVMFuzzerTestOneInput on every file of the given corpus directories, then on
// a bounded number of deterministic mutations of them (bit flips, truncation,
// splices, random bytes). A crash or sanitizer report fails the CTest case.
//
// Usage: <target> [--mutations=N] DIR_OR_FILE...

#include <cstdint>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <string>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);

namespace {

void run(const std::string& input) {
  LLVMFuzzerTestOneInput(reinterpret_cast<const uint8_t*>(input.data()), input.size());
}

std::string mutate(const std::vector<std::string>& seeds, std::mt19937_64& rng) {
  std::string s = seeds.empty() ? std::string() : seeds[rng() % seeds.size()];
  int ops = 1 + static_cast<int>(rng() % 4);
  for (int i = 0; i < ops; ++i) {
    switch (rng() % 6) {
      case 0:  // flip a bit
        if (!s.empty()) s[rng() % s.size()] ^= static_cast<char>(1u << (rng() % 8));
        break;
      case 1:  // truncate
        if (!s.empty()) s.resize(rng() % s.size());
        break;
      case 2:  // insert random bytes
        for (size_t n = rng() % 16, pos = s.empty() ? 0 : rng() % s.size(); n > 0; --n)
          s.insert(s.begin() + static_cast<long>(pos), static_cast<char>(rng()));
        break;
      case 3:  // splice another seed
        if (!seeds.empty()) {
          const std::string& o = seeds[rng() % seeds.size()];
          s = s.substr(0, s.empty() ? 0 : rng() % s.size()) + o.substr(o.empty() ? 0 : rng() % o.size());
        }
        break;
      case 4:  // overwrite with an interesting byte
        if (!s.empty()) {
          static constexpr uint8_t kBytes[] = {0x00, 0xff, 0x7f, 0x80, '\r', '\n', ':', ' '};
          s[rng() % s.size()] = static_cast<char>(kBytes[rng() % sizeof kBytes]);
        }
        break;
      case 5:  // duplicate a slice
        if (!s.empty()) {
          size_t a = rng() % s.size();
          s.insert(a, s.substr(a, rng() % 64));
        }
        break;
    }
  }
  return s;
}

}  // namespace

int main(int argc, char** argv) {
  long mutations = 0;
  std::vector<std::string> seeds;
  for (int i = 1; i < argc; ++i) {
    if (std::strncmp(argv[i], "--mutations=", 12) == 0) {
      mutations = std::atol(argv[i] + 12);
      continue;
    }
    std::filesystem::path p(argv[i]);
    std::vector<std::filesystem::path> files;
    if (std::filesystem::is_directory(p)) {
      for (const auto& e : std::filesystem::recursive_directory_iterator(p))
        if (e.is_regular_file()) files.push_back(e.path());
    } else if (std::filesystem::exists(p)) {
      files.push_back(p);
    }
    for (const auto& f : files) {
      std::ifstream in(f, std::ios::binary);
      std::stringstream ss;
      ss << in.rdbuf();
      seeds.push_back(ss.str());
    }
  }
  for (const auto& s : seeds) run(s);
  std::mt19937_64 rng(0xC41A0);
  for (long i = 0; i < mutations; ++i) run(mutate(seeds, rng));
  std::printf("replayed %zu seeds and %ld mutations\n", seeds.size(), mutations);
  return 0;
}
