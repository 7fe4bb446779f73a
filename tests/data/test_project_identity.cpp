// Project files are the user's data: anything that is not a project of ours (an empty file, random bytes,
// another program's SQLite database) and any project from a newer version is refused and left
// byte-for-byte unchanged; projects from before the application_id was stamped still open; the read-only
// mode never writes and works where the -wal/-shm files cannot be created.
#include <unistd.h>

#include <optional>

#include <QFile>
#include <QTemporaryDir>
#include <QtTest/QtTest>

#include "data/store/project_identity.h"
#include "data/store/project_store.h"
#include "data/store/schema.h"
#include "data/store/sqlite_db.h"

using namespace mls;

namespace {

QByteArray bytesOf(const std::string& path) {
  QFile f(QString::fromStdString(path));
  return f.open(QIODevice::ReadOnly) ? f.readAll() : QByteArray("<unreadable>");
}

void writeBytes(const std::string& path, const QByteArray& bytes) {
  QFile f(QString::fromStdString(path));
  QVERIFY(f.open(QIODevice::WriteOnly));
  f.write(bytes);
}

// The application_id as it stands in the file's header (offset 68, big-endian).
QByteArray headerApplicationId(const std::string& path) { return bytesOf(path).mid(68, 4); }

// Root (CI containers) writes into read-only folders, so the read-only folder case runs as "nobody" for the
// scope: real and effective ids switch, the saved ids stay 0 so the destructor can switch back. access(2)
// checks the real id, so it must change too, not only the effective one.
class AsUnprivilegedUser {
 public:
  static constexpr uid_t kNobody = 65534;
  AsUnprivilegedUser() {
    ok_ = setresgid(kNobody, kNobody, 0) == 0 && setresuid(kNobody, kNobody, 0) == 0;
  }
  ~AsUnprivilegedUser() {
    if (setresuid(0, 0, 0) != 0 || setresgid(0, 0, 0) != 0) qFatal("cannot return to root after the test");
  }
  AsUnprivilegedUser(const AsUnprivilegedUser&) = delete;
  AsUnprivilegedUser& operator=(const AsUnprivilegedUser&) = delete;
  bool ok() const { return ok_ && geteuid() == kNobody && getuid() == kNobody; }

 private:
  bool ok_ = false;
};

bool companionFilesExist(const std::string& path) {
  for (const char* suffix : {"-wal", "-shm", "-journal"})
    if (QFile::exists(QString::fromStdString(path + suffix))) return true;
  return false;
}

}  // namespace

class TestProjectIdentity : public QObject {
  Q_OBJECT
  QTemporaryDir dir_;
  std::string path(const char* name) { return (dir_.path() + "/" + name).toStdString(); }

  static void fill(ProjectStore& s) {
    s.importCollection(".", {{1, "cat", "", 0}}, {{10, "a.jpg", 4, 4, Split::Train, false}}, {{10, 1}});
  }

  // Every way of opening refuses `p` with a one-line message containing `needle` and leaves it unchanged.
  // Identification alone creates no -wal/-shm files either; a refused newer project has been opened (SQLite's
  // read-only connections leave empty ones behind, as they may not delete them).
  void expectRefusedUnchanged(const std::string& p, const char* needle, bool check_companions = true) {
    const QByteArray before = bytesOf(p);
    for (auto mode : {ProjectStore::Open::CreateIfMissing, ProjectStore::Open::Existing, ProjectStore::Open::ReadOnly}) {
      try {
        ProjectStore s(p, mode);
        QFAIL(("opened " + p).c_str());
      } catch (const DatabaseError& e) {
        const std::string msg = e.what();
        QVERIFY2(msg.find(needle) != std::string::npos, msg.c_str());
        QVERIFY2(msg.find('\n') == std::string::npos, msg.c_str());
      }
      QCOMPARE(bytesOf(p), before);
      if (check_companions) QVERIFY2(!companionFilesExist(p), p.c_str());
    }
  }

 private Q_SLOTS:
  void foreignFilesAreRefusedUnchanged() {
    const char* not_ours = "is not a Multi-Label Studio project";
    writeBytes(path("empty.mlsproj"), {});
    expectRefusedUnchanged(path("empty.mlsproj"), "(empty file)");

    QByteArray noise(4096, '\0');
    for (int i = 0; i < noise.size(); ++i) noise[i] = static_cast<char>((i * 7919 + 13) % 251);
    writeBytes(path("noise.mlsproj"), noise);
    expectRefusedUnchanged(path("noise.mlsproj"), "(not an SQLite database)");
    writeBytes(path("short.mlsproj"), "SQLite format 3");
    expectRefusedUnchanged(path("short.mlsproj"), "(not an SQLite database)");

    // Another program's databases: rollback journal, WAL, with its own user_version, with its own app id.
    { Database db(path("x.db")); db.exec("CREATE TABLE t(x); INSERT INTO t VALUES(1)"); }
    expectRefusedUnchanged(path("x.db"), not_ours);
    { Database db(path("wal.db")); db.exec("PRAGMA journal_mode=WAL; CREATE TABLE t(x)"); }
    expectRefusedUnchanged(path("wal.db"), not_ours);
    { Database db(path("versioned.db")); db.exec("CREATE TABLE meta(k, v); PRAGMA user_version = 3"); }
    expectRefusedUnchanged(path("versioned.db"), "without Multi-Label Studio's tables");
    { Database db(path("other.db")); db.exec("PRAGMA application_id = 1234; CREATE TABLE t(x)"); }
    expectRefusedUnchanged(path("other.db"), "another program");
  }

  // Identification looks through these connections; neither may write.
  void readOnlyConnectionsCannotWrite() {
    const auto p = path("plain.db");
    { Database db(p); db.exec("CREATE TABLE t(x)"); }
    const QByteArray before = bytesOf(p);
    for (auto access : {Database::Access::ReadOnly, Database::Access::Immutable}) {
      Database db(p, access);
      QCOMPARE(db.immutable(), access == Database::Access::Immutable);
      QVERIFY_THROWS_EXCEPTION(DatabaseError, db.exec("CREATE TABLE u(y)"));
    }
    QCOMPARE(bytesOf(p), before);
  }

  void missingFileIsCreatedOnlyOnRequest() {
    const auto p = path("absent.mlsproj");
    QVERIFY_THROWS_EXCEPTION(DatabaseError, ProjectStore(p, ProjectStore::Open::Existing));
    QVERIFY_THROWS_EXCEPTION(DatabaseError, ProjectStore(p, ProjectStore::Open::ReadOnly));
    QVERIFY(!QFile::exists(QString::fromStdString(p)));
    { ProjectStore s(p); }
    QCOMPARE(headerApplicationId(p), QByteArray("MLSP"));
    QVERIFY(identifyProjectFile(p).stamped);
  }

  void projectFromBeforeTheStampStillOpens() {
    const auto p = path("legacy.mlsproj");
    {
      ProjectStore s(p);
      fill(s);
    }
    { Database db(p); db.exec("PRAGMA application_id = 0"); }  // as earlier versions wrote it
    QCOMPARE(headerApplicationId(p), QByteArray(4, '\0'));
    QVERIFY(!identifyProjectFile(p).stamped);
    QVERIFY(!companionFilesExist(p));  // looked at through an immutable connection
    {
      ProjectStore ro(p, ProjectStore::Open::ReadOnly);
      QCOMPARE(ro.counts().train, 1);
    }
    QCOMPARE(headerApplicationId(p), QByteArray(4, '\0'));  // read-only opens do not stamp
    {
      ProjectStore s(p, ProjectStore::Open::Existing);
      QCOMPARE(s.counts().labels, 1);
    }
    QCOMPARE(headerApplicationId(p), QByteArray("MLSP"));
  }

  void newerSchemaIsRefusedUnchanged() {
    const auto p = path("future.mlsproj");
    { ProjectStore s(p); }
    { Database db(p); db.exec("PRAGMA user_version = " + std::to_string(kSchemaVersion + 1)); }
    const std::string expected = "made by a newer version of Multi-Label Studio (schema " +
                                 std::to_string(kSchemaVersion + 1) + ", this build reads up to " +
                                 std::to_string(kSchemaVersion) + ")";
    expectRefusedUnchanged(p, expected.c_str(), false);
  }

  // A view or virtual table runs SQL the file chose inside our queries: `info` on a project whose labels table
  // is a view over an endless recursive CTE never returned (a hand-made seed of tests/fuzz/fuzz_project_open,
  // which reports it as a timeout). Such files are refused at open, before the first query.
  void viewsAndVirtualTablesAreRefusedUnchanged() {
    const auto view = path("view.mlsproj");
    {
      ProjectStore s(view);
      fill(s);
    }
    {
      Database db(view);
      db.exec("DROP TABLE labels");
      db.exec("CREATE VIEW labels AS WITH RECURSIVE n(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM n) "
              "SELECT x AS image_id, x AS category_id FROM n");
    }
    expectRefusedUnchanged(view, "contains a view ('labels'), which Multi-Label Studio projects never have", false);

    const auto virtual_table = path("virtual.mlsproj");
    { ProjectStore s(virtual_table); }
    {
      Database db(virtual_table);
      db.exec("DROP TABLE categories");
      db.exec("CREATE VIRTUAL TABLE categories USING fts5(id, name, supercategory, idx)");
    }
    expectRefusedUnchanged(virtual_table, "contains a virtual table ('categories')", false);

    const auto odd_name = path("odd_name.mlsproj");
    { ProjectStore s(odd_name); }
    { Database db(odd_name); db.exec("CREATE VIEW \"two\nlines\" AS SELECT 1"); }
    expectRefusedUnchanged(odd_name, "contains a view ('two lines')", false);

    const QString seed = QStringLiteral(MLS_SOURCE_DIR "/tests/fuzz/corpus/fuzz_project_open/hostile_recursive_view.mlsproj");
    const auto copy = path("fuzz_seed.mlsproj");
    QVERIFY(QFile::copy(seed, QString::fromStdString(copy)));
    QFile::setPermissions(QString::fromStdString(copy), QFileDevice::ReadOwner | QFileDevice::WriteOwner);
    expectRefusedUnchanged(copy, "contains a view ('labels')", false);
  }

  // SQLite quotes the schema's SQL, line breaks included, in some errors: a project with one damaged byte in
  // its schema (found by tests/fuzz/fuzz_project_open; the input is in its corpus) was refused with a
  // three-line message. Values quoted from the file are folded too.
  void errorsQuotingTheFileStayOnOneLine() {
    const auto copy = path("multiline.mlsproj");
    QVERIFY(QFile::copy(QStringLiteral(MLS_SOURCE_DIR "/tests/fuzz/corpus/fuzz_project_open/multiline_sqlite_error.mlsproj"),
                        QString::fromStdString(copy)));
    QFile::setPermissions(QString::fromStdString(copy), QFileDevice::ReadOwner | QFileDevice::WriteOwner);
    expectRefusedUnchanged(copy,
                           "malformed database schema (categories) - unrecognized token: \"[ TEXT NOT NULL, "
                           "supercategory TEXT NOT NULL DEFAULT '', idx INTEGER NOT NULL UNIQUE)",
                           false);

    const auto p = path("split.mlsproj");
    {
      ProjectStore s(p);
      fill(s);
    }
    {
      Database db(p);
      db.exec("PRAGMA ignore_check_constraints = ON");
      db.exec("UPDATE images SET split = 'tr\nain'");
    }
    ProjectStore s(p, ProjectStore::Open::ReadOnly);
    try {
      s.counts();
      QFAIL("read an unknown split");
    } catch (const std::invalid_argument& e) {
      QCOMPARE(std::string(e.what()), std::string("unknown split 'tr ain' (expected train, val or test)"));
    }
  }

  void readOnlyModeNeverWrites() {
    const auto p = path("ro.mlsproj");
    {
      ProjectStore s(p);
      fill(s);
      s.createRun("r", "q2l", "{}", "");
    }
    const QByteArray before = bytesOf(p);
    {
      ProjectStore s(p, ProjectStore::Open::ReadOnly);
      QCOMPARE(s.counts().train, 1);
      QCOMPARE(s.runs().size(), size_t(1));
      try {
        s.setMeta("name", "x");
        QFAIL("a read-only store wrote");
      } catch (const DatabaseError& e) {
        QVERIFY2(std::string(e.what()).find("readonly") != std::string::npos, e.what());
      }
    }
    QCOMPARE(bytesOf(p), before);
  }

  // A project at an older schema (here 0: stamped, no tables yet, as a crash right after creation leaves it)
  // cannot be read by this build's queries: a read-only open upgrades it first when it may write the file.
  void readOnlyOpenUpgradesAnOlderProject() {
    const auto p = path("older.mlsproj");
    { Database db(p); db.exec("PRAGMA application_id = " + std::to_string(kApplicationId)); }
    ProjectStore s(p, ProjectStore::Open::ReadOnly);
    QCOMPARE(s.schemaVersion(), kSchemaVersion);
    QCOMPARE(s.counts().train, 0);
    QVERIFY_THROWS_EXCEPTION(DatabaseError, s.setMeta("name", "x"));
  }

  // In a folder the process may not write, SQLite cannot create the -wal/-shm files a WAL database needs
  // and a plain read-only open fails. Tests run as root, which ignores permissions, so a directory where
  // the -wal file would go stands in for it: it fails the same open (SQLITE_CANTOPEN) even for root.
  void readOnlyModeWorksWhereTheWalCannotBeCreated() {
    const auto p = path("locked.mlsproj");
    {
      ProjectStore s(p);
      fill(s);
    }
    QVERIFY(QDir().mkdir(QString::fromStdString(p + "-wal")));
    const QByteArray before = bytesOf(p);
    {
      ProjectStore s(p, ProjectStore::Open::ReadOnly);
      QCOMPARE(s.counts().train, 1);
      QCOMPARE(s.categories().size(), size_t(1));
    }
    QCOMPARE(bytesOf(p), before);
    QVERIFY(QDir().rmdir(QString::fromStdString(p + "-wal")));
  }

  void readOnlyModeWorksInAReadOnlyFolder() {
    QTemporaryDir ro_dir;
    QVERIFY(ro_dir.isValid());
    std::optional<AsUnprivilegedUser> unprivileged;  // destroyed before ro_dir, which root then removes
    if (geteuid() == 0) {
      QVERIFY(chown(QFile::encodeName(ro_dir.path()).constData(), AsUnprivilegedUser::kNobody,
                    AsUnprivilegedUser::kNobody) == 0);
      unprivileged.emplace();
      if (!unprivileged->ok()) QSKIP("running as root without the right to switch user: root writes anyway");
    }
    const std::string q = (ro_dir.path() + "/p.mlsproj").toStdString();
    {
      ProjectStore s(q);
      fill(s);
    }
    QFile::setPermissions(ro_dir.path(), QFileDevice::ReadOwner | QFileDevice::ExeOwner);
    {
      ProjectStore s(q, ProjectStore::Open::ReadOnly);
      QCOMPARE(s.counts().train, 1);
    }
    try {
      ProjectStore s(q, ProjectStore::Open::Existing);
      QFAIL("opened a project in a read-only folder for writing");
    } catch (const DatabaseError& e) {
      QVERIFY2(std::string(e.what()).find("for writing: the file or its folder is read-only") != std::string::npos,
               e.what());
    }
    const std::string older = (ro_dir.path() + "/older.mlsproj").toStdString();
    QFile::setPermissions(ro_dir.path(), QFileDevice::ReadOwner | QFileDevice::WriteOwner | QFileDevice::ExeOwner);
    { Database db(older); db.exec("PRAGMA application_id = " + std::to_string(kApplicationId)); }
    QFile::setPermissions(ro_dir.path(), QFileDevice::ReadOwner | QFileDevice::ExeOwner);
    try {
      ProjectStore s(older, ProjectStore::Open::ReadOnly);
      QFAIL("read an older project without upgrading it");
    } catch (const DatabaseError& e) {
      QVERIFY2(std::string(e.what()).find("open it once with write access to upgrade it") != std::string::npos,
               e.what());
    }
    QFile::setPermissions(ro_dir.path(), QFileDevice::ReadOwner | QFileDevice::WriteOwner | QFileDevice::ExeOwner);
  }
};

QTEST_GUILESS_MAIN(TestProjectIdentity)
#include "test_project_identity.moc"
