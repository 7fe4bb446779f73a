// ProjectStore: image folders, image paths and relinking a moved folder.
#include <filesystem>
#include <stdexcept>
#include <utility>

#include "data/store/project_store.h"
#include "data/store/sqlite_db.h"

namespace fs = std::filesystem;

namespace mls {

namespace {

// How a folder is written into image_folders: relative to the project's folder when inside it (the project
// and its images can move together), absolute otherwise.
std::string storedFolder(const std::string& folder, const std::string& project_dir) {
  const fs::path abs = fs::absolute(fs::path(folder)).lexically_normal();
  const fs::path rel = abs.lexically_relative(project_dir);
  const bool inside = !rel.empty() && rel.native().rfind("..", 0) != 0;
  std::string stored = inside ? rel.string() : abs.string();
  return stored.empty() ? "." : stored;
}

// (image id, file name) of a folder's images, read before any update touches the table.
std::vector<std::pair<int64_t, std::string>> folderImages(Database& db, int64_t folder_id) {
  auto st = db.prepare("SELECT id, file_name FROM images WHERE folder_id = ?");
  st.bind(1, folder_id);
  std::vector<std::pair<int64_t, std::string>> out;
  while (st.step()) out.emplace_back(st.int64(0), st.text(1));
  return out;
}

bool presentUnder(const fs::path& dir, const std::string& file_name) {
  std::error_code ec;
  return staysInsideFolder(file_name) && fs::is_regular_file(dir / file_name, ec);
}

void requireDirectory(const std::string& dir) {
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) throw std::invalid_argument("folder '" + dir + "' does not exist");
}

}  // namespace

int64_t ProjectStore::folderId(const std::string& folder) {
  const std::string stored = storedFolder(folder, projectDir());
  auto find = db_->prepare("SELECT id FROM image_folders WHERE path = ?");
  find.bind(1, stored);
  if (find.step()) return find.int64(0);
  auto ins = db_->prepare("INSERT INTO image_folders(path) VALUES(?)");
  ins.bind(1, stored).run();
  return db_->lastInsertId();
}

std::string ProjectStore::folderPath(int64_t folder_id) {
  if (auto it = folder_cache_.find(folder_id); it != folder_cache_.end()) return it->second;
  auto st = db_->prepare("SELECT path FROM image_folders WHERE id = ?");
  st.bind(1, folder_id);
  if (!st.step()) throw UnknownIdError("unknown image folder id " + std::to_string(folder_id));
  const fs::path p(st.text(0));
  std::string resolved = (p.is_absolute() ? p : fs::path(projectDir()) / p).lexically_normal().string();
  folder_cache_.emplace(folder_id, resolved);
  return resolved;
}

std::string ProjectStore::imagePath(const ImageRecord& image) {
  // Imports refuse such names; projects imported before that may still hold them.
  if (!staysInsideFolder(image.file_name)) return {};
  return (fs::path(folderPath(image.folder_id)) / image.file_name).string();
}

std::vector<ImageFolderInfo> ProjectStore::imageFolders() {
  std::vector<ImageFolderInfo> out;
  {
    auto st = db_->prepare(
        "SELECT f.id, (SELECT COUNT(*) FROM images i WHERE i.folder_id = f.id) FROM image_folders f ORDER BY f.id");
    while (st.step()) out.push_back({st.int64(0), "", st.int64(1), 0});
  }
  for (auto& f : out) {
    f.path = folderPath(f.id);
    for (const auto& [id, name] : folderImages(*db_, f.id)) f.present += presentUnder(f.path, name) ? 1 : 0;
  }
  return out;
}

std::vector<std::string> ProjectStore::imageFolderPaths() {
  std::vector<int64_t> ids;
  {
    auto st = db_->prepare("SELECT id FROM image_folders ORDER BY id");
    while (st.step()) ids.push_back(st.int64(0));
  }
  std::vector<std::string> out;
  for (int64_t id : ids) out.push_back(folderPath(id));
  return out;
}

int64_t ProjectStore::countFilesUnder(int64_t folder_id, const std::string& dir) {
  folderPath(folder_id);  // throws for an unknown id
  requireDirectory(dir);
  int64_t found = 0;
  for (const auto& [id, name] : folderImages(*db_, folder_id)) found += presentUnder(dir, name) ? 1 : 0;
  return found;
}

int64_t ProjectStore::relinkFolder(int64_t folder_id, const std::string& new_dir) {
  folderPath(folder_id);
  requireDirectory(new_dir);
  const std::string stored = storedFolder(new_dir, projectDir());
  Transaction tx(*db_);
  auto other = db_->prepare("SELECT id FROM image_folders WHERE path = ? AND id != ?");
  other.bind(1, stored).bind(2, folder_id);
  if (other.step())
    throw std::invalid_argument("'" + new_dir + "' is already image folder " + std::to_string(other.int64(0)) +
                                " of this project");
  auto move = db_->prepare("UPDATE image_folders SET path = ? WHERE id = ?");
  move.bind(1, stored).bind(2, folder_id).run();
  auto mark = db_->prepare("UPDATE images SET missing = ? WHERE id = ?");
  int64_t found = 0;
  for (const auto& [id, name] : folderImages(*db_, folder_id)) {
    const bool present = presentUnder(new_dir, name);
    found += present ? 1 : 0;
    mark.bind(1, present ? 0 : 1).bind(2, id);
    mark.run();
  }
  tx.commit();
  folder_cache_.erase(folder_id);
  return found;
}

}  // namespace mls
