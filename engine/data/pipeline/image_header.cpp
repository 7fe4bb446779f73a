#include "data/pipeline/image_header.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <cstdint>
#include <fstream>

namespace mls {
namespace {

int bigEndian16(const unsigned char* p) { return (p[0] << 8) | p[1]; }
int64_t bigEndian32(const unsigned char* p) {
  return (int64_t{p[0]} << 24) | (int64_t{p[1]} << 16) | (int64_t{p[2]} << 8) | int64_t{p[3]};
}

// Walks the JPEG marker segments up to the first start-of-frame (SOF0..SOF15 except DHT, JPG, DAC),
// whose payload holds precision(1), height(2), width(2).
void readJpegSize(std::ifstream& in, ImageHeader& header) {
  in.seekg(2);  // after SOI
  unsigned char buf[9];
  for (int guard = 0; guard < 4096 && in; ++guard) {
    int byte = in.get();
    if (byte != 0xFF) return;  // not at a marker: corrupt stream
    int marker = in.get();
    while (marker == 0xFF) marker = in.get();  // fill bytes
    if (marker == EOF) return;
    if (marker == 0xD8 || marker == 0x01 || (marker >= 0xD0 && marker <= 0xD7)) continue;  // no payload
    if (marker == 0xD9 || marker == 0xDA) return;  // EOI / start of scan before any frame header
    if (!in.read(reinterpret_cast<char*>(buf), 2)) return;
    const int length = bigEndian16(buf);
    if (length < 2) return;
    const bool is_sof = marker >= 0xC0 && marker <= 0xCF && marker != 0xC4 && marker != 0xC8 && marker != 0xCC;
    if (is_sof) {
      if (length < 7 || !in.read(reinterpret_cast<char*>(buf), 5)) return;
      header.height = bigEndian16(buf + 1);
      header.width = bigEndian16(buf + 3);
      return;
    }
    in.seekg(length - 2, std::ios::cur);
  }
}

}  // namespace

std::optional<ImageHeader> probeImageHeader(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::nullopt;
  ImageHeader header;
  std::array<unsigned char, 24> head{};
  in.read(reinterpret_cast<char*>(head.data()), head.size());
  const auto got = in.gcount();
  in.clear();
  if (got >= 3 && head[0] == 0xFF && head[1] == 0xD8 && head[2] == 0xFF) {
    header.format = ImageFormat::Jpeg;
    readJpegSize(in, header);
  } else if (got >= 24 && head[0] == 0x89 && head[1] == 'P' && head[2] == 'N' && head[3] == 'G' &&
             std::equal(head.begin() + 12, head.begin() + 16, "IHDR")) {
    header.format = ImageFormat::Png;
    header.width = static_cast<int>(std::min<int64_t>(bigEndian32(head.data() + 16), INT32_MAX));
    header.height = static_cast<int>(std::min<int64_t>(bigEndian32(head.data() + 20), INT32_MAX));
  }
  return header;
}

bool hasJpegExtension(const std::string& path) {
  const auto dot = path.find_last_of('.');
  if (dot == std::string::npos) return false;
  std::string ext = path.substr(dot + 1);
  std::transform(ext.begin(), ext.end(), ext.begin(), [](unsigned char c) { return std::tolower(c); });
  return ext == "jpg" || ext == "jpeg" || ext == "jpe" || ext == "jfif";
}

}  // namespace mls
