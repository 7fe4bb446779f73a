// Exporting a run's weights (exportRunWeights, `mlstudio-cli export-weights`): native names re-read equal the
// checkpoint's tensors; authors' names load strictly into PyTorch re-declarations of the authors' Query2Label
// and MLSPL module trees (tests/testdata/check_exported_weights.py) and give the C++ model's logits;
// --checkpoint last; unknown run, run without checkpoint and unwritable path fail clearly.
#include <torch/torch.h>

#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QTemporaryDir>
#include <QtTest/QtTest>

#include <fstream>
#include <iterator>
#include <map>

#include "../support/python_torch.h"
#include "cli_runner.h"
#include "data/store/project_store.h"
#include "data/training/run_model_spec.h"
#include "data/training/run_weights_export.h"
#include "data/training/train_request.h"
#include "data/training/training_session.h"
#include "ml/models/authors_names.h"
#include "ml/models/multilabel_model.h"
#include "ml/models/state_dict_io.h"
#include "ml/training/checkpoint_io.h"

using namespace mls;

namespace {

std::map<std::string, torch::Tensor> readExport(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  const std::vector<char> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::map<std::string, torch::Tensor> out;
  for (const auto& e : torch::pickle_load(bytes).toGenericDict())
    out.emplace(e.key().toStringRef(), e.value().toTensor());
  return out;
}

QJsonObject lastJson(const QByteArray& out) {
  return QJsonDocument::fromJson(out.trimmed().split('\n').last()).object();
}

}  // namespace

class TestCliExportWeights : public QObject {
  Q_OBJECT
  QTemporaryDir dir_;
  QString project_;
  std::unique_ptr<ProjectStore> store_;
  int64_t q2l_run_ = 0, mlspl_run_ = 0;
  QString python_missing_;

  std::string path(const char* name) const { return dir_.filePath(name).toStdString(); }

  int64_t train(const QStringList& extra) {
    QStringList args{"train", "--project", project_, "--labels", "full", "--backbone", "resnet18",
                     "--image-size", "64", "--epochs", "1", "--batch", "32"};
    const auto r = runCli(args + extra);
    if (r.code != 0) qWarning("%s", r.err.constData());
    return lastJson(r.out)["run"].toInt();
  }

  // The run's model as eval/predict rebuild it, with the weights the project's own loader picks.
  std::shared_ptr<MultiLabelModel> loadRun(int64_t run_id, const std::string& checkpoint) {
    auto request = TrainRequest::fromJson(store_->run(run_id)->config);
    request.resolveDefaults();
    auto spec = modelSpecFor(request, static_cast<int>(store_->categories().size()));
    spec.weights.clear();
    auto model = buildModel(spec);
    loadCheckpointWeights(*model, checkpoint);
    model->eval();
    return model;
  }

  // Input and the C++ logits for the Python side to reproduce.
  void writeReference(MultiLabelModel& model, const std::string& file) {
    torch::NoGradGuard no_grad;
    torch::manual_seed(5);
    const auto input = torch::randn({2, 3, 64, 64});
    c10::Dict<std::string, torch::Tensor> dict;
    dict.insert("input", input);
    dict.insert("logits", model.forward(input).logits.contiguous());
    const auto bytes = torch::pickle_save(c10::IValue(dict));
    std::ofstream(file, std::ios::binary).write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  }

  QJsonObject runPythonCheck(const std::string& weights, const std::string& reference) {
    QProcess p;
    p.setProcessChannelMode(QProcess::MergedChannels);
    p.start(test::testPython(),
            {MLS_TEST_DATA_DIR "/check_exported_weights.py", "--weights", QString::fromStdString(weights), "--info",
             QString::fromStdString(weights + ".json"), "--reference", QString::fromStdString(reference)});
    p.waitForFinished(180000);
    const auto out = p.readAll();
    qInfo("python: %s", out.trimmed().constData());
    if (p.exitStatus() != QProcess::NormalExit || p.exitCode() != 0) return {};
    return lastJson(out);
  }

 private Q_SLOTS:
  void initTestCase() {
    torch::set_num_threads(1);
    QVERIFY(dir_.isValid());
    const auto r = runCli({"demo", "--out", dir_.path() + "/demo", "--train", "96", "--val", "32", "--size", "64"});
    QVERIFY2(r.code == 0, r.err.constData());
    project_ = dir_.path() + "/demo/demo.mlsproj";
    q2l_run_ = train({"--method", "q2l", "--loss", "asl", "--run-name", "q2l-r18"});
    mlspl_run_ = train({"--method", "mlspl", "--loss", "bce", "--run-name", "mlspl-r18"});
    QVERIFY(q2l_run_ > 0 && mlspl_run_ > 0);
    store_ = std::make_unique<ProjectStore>(project_.toStdString(), ProjectStore::Open::Existing);

    python_missing_ = test::pythonTorchMissing();  // the PyTorch-side checks skip without it
    if (!python_missing_.isEmpty() && test::runningOnCi()) QFAIL(qPrintable(python_missing_));
  }

  // (a) Native names: exactly the checkpoint's tensors, readable by torch::pickle_load and by the project's
  // own weights reader (so the file goes back in with `train --weights`).
  void nativeNamesEqualCheckpoint() {
    const auto out = path("native.pth");
    ExportWeightsOptions o;
    o.naming = ExportNaming::Native;
    const auto r = exportRunWeights(*store_, q2l_run_, out, o);
    QCOMPARE(r.epoch, 1);
    QVERIFY(r.exact);
    QVERIFY(QFile::exists(QString::fromStdString(r.info_path)));

    const auto model = loadRun(q2l_run_, r.checkpoint_path);
    const auto expected = moduleStateDict(*model);
    const auto got = readExport(out);
    QCOMPARE(got.size(), expected.size());
    QCOMPARE(r.tensors, static_cast<int64_t>(expected.size()));
    for (const auto& kv : expected) {
      const auto it = got.find(kv.first);
      QVERIFY2(it != got.end(), kv.first.c_str());
      QVERIFY2(torch::equal(it->second, kv.second), kv.first.c_str());
    }
    QCOMPARE(readStateDictFile(out).size(), expected.size());
  }

  // (b) Authors' Query2Label names: the renaming, the positional-encoding buffer, then strict loading and the
  // same logits in PyTorch.
  void authorsQuery2Label() {
    const auto out = path("q2l.pth");
    const auto r = exportRunWeights(*store_, q2l_run_, out);
    QCOMPARE(QString::fromStdString(r.module), QString("Qeruy2Label"));
    QVERIFY(r.exact);
    const auto model = loadRun(q2l_run_, r.checkpoint_path);
    const auto got = readExport(out);
    for (const auto& kv : moduleStateDict(*model)) {
      if (kv.first.find("num_batches_tracked") != std::string::npos) continue;  // FrozenBatchNorm2d has none
      const bool in_backbone = kv.first.rfind("backbone.", 0) == 0;
      const auto name = in_backbone ? "backbone.0.body." + kv.first.substr(9) : kv.first;
      const auto it = got.find(name);
      QVERIFY2(it != got.end(), name.c_str());
      QVERIFY2(torch::equal(it->second, kv.second), name.c_str());
    }
    QVERIFY(got.count("backbone.0.body.layer4.1.bn2.running_var"));
    QVERIFY(got.count("transformer.decoder.layers.1.multihead_attn.in_proj_weight"));
    QVERIFY(!got.count("transformer.decoder.layers.0.self_attn.in_proj_weight"));  // removed as in the authors' code
    QVERIFY(got.at("transformer.decoder.layers.0.multihead_attn.in_proj_weight").sizes().equals({384, 128}));
    QVERIFY(got.at("backbone.1.pe").sizes().equals({1, 128, 2, 2}));  // 64 px / 32
    QVERIFY(got.at("fc.W").sizes().equals({1, 12, 128}));
    QVERIFY(got.count("input_proj.weight"));  // 512 -> 128: the authors' --keep_input_proj

    if (!python_missing_.isEmpty()) QSKIP(qPrintable(python_missing_));
    writeReference(*model, path("q2l_ref.pt"));
    const auto report = runPythonCheck(out, path("q2l_ref.pt"));
    QVERIFY2(!report.isEmpty(), "the Python check failed (see its output above)");
    QCOMPARE(report["keys"].toInt(), static_cast<int>(got.size()));
    QVERIFY(report["pe_max_abs_diff"].toDouble() < 1e-5);
    QVERIFY(report["logits_max_abs_diff"].toDouble() < 1e-4);
  }

  // (b) Authors' MLSPL names through the CLI: the JSON line, the info file, strict loading and equal logits.
  void authorsMlsplFromCli() {
    const QString out = dir_.path() + "/mlspl.pth";
    const auto r = runCli({"export-weights", "--project", project_, "--run", "mlspl-r18", "--out", out});
    QVERIFY2(r.code == 0, r.err.constData());
    const auto j = lastJson(r.out);
    QCOMPARE(j["module"].toString(), QString("ImageClassifier"));
    QVERIFY(j["exact"].toBool());
    QCOMPARE(j["epoch"].toInt(), 1);
    QVERIFY2(r.err.contains("note: "), r.err.constData());  // resnet18 in place of models.py's resnet50

    const auto got = readExport(out.toStdString());
    QVERIFY(got.count("feature_extractor.0.weight"));        // conv1
    QVERIFY(got.count("feature_extractor.1.num_batches_tracked"));  // bn1
    QVERIFY(got.count("feature_extractor.7.1.conv2.weight"));  // layer4
    QVERIFY(got.at("linear_classifier.weight").sizes().equals({12, 512}));

    QFile info(out + ".json");
    QVERIFY(info.open(QIODevice::ReadOnly));
    const auto meta = QJsonDocument::fromJson(info.readAll()).object();
    QCOMPARE(meta["classes"].toArray().size(), 12);
    QCOMPARE(meta["authors_arguments"].toObject()["feat_dim"].toInt(), 512);

    if (!python_missing_.isEmpty()) QSKIP(qPrintable(python_missing_));
    const auto model = loadRun(mlspl_run_, j["checkpoint"].toString().toStdString());
    writeReference(*model, path("mlspl_ref.pt"));
    const auto report = runPythonCheck(out.toStdString(), path("mlspl_ref.pt"));
    QVERIFY2(!report.isEmpty(), "the Python check failed (see its output above)");
    QVERIFY(report["logits_max_abs_diff"].toDouble() < 1e-4);
  }

  void lastCheckpoint() {
    const QString out = dir_.path() + "/last.pth";
    const auto r = runCli({"export-weights", "--project", project_, "--run", QString::number(q2l_run_), "--out", out,
                           "--checkpoint", "last", "--names", "native", "--no-info"});
    QVERIFY2(r.code == 0, r.err.constData());
    const auto j = lastJson(r.out);
    QVERIFY2(j["checkpoint"].toString().endsWith("epoch_001.pt"), r.out.constData());
    QVERIFY(!j.contains("info"));
    QVERIFY(!QFile::exists(out + ".json"));
    QVERIFY(QFile::exists(out));
  }

  // (c) Errors: one clear line, no output file left behind.
  void errors() {
    const QString out = dir_.path() + "/never.pth";
    expectCliError({"export-weights", "--project", project_, "--run", "no-such-run", "--out", out}, "unknown run");
    QVERIFY_THROWS_EXCEPTION(UnknownIdError, exportRunWeights(*store_, 9999, out.toStdString()));

    const auto empty = store_->createRun("untrained", "q2l", TrainRequest().toJson(), "");
    expectCliError({"export-weights", "--project", project_, "--run", "untrained", "--out", out}, "has no checkpoint");
    try {
      exportRunWeights(*store_, empty, out.toStdString());
      QFAIL("expected an error for a run without checkpoint");
    } catch (const std::runtime_error& e) {
      QVERIFY2(QString(e.what()).contains("has no checkpoint"), e.what());
    }
    QVERIFY(!QFile::exists(out));

    expectCliError({"export-weights", "--project", project_, "--run", "q2l-r18", "--out",
                    dir_.path() + "/no/such/dir/w.pth"}, "cannot write");
    expectCliError({"export-weights", "--project", project_, "--run", "q2l-r18", "--out", out, "--names", "timm"},
                   "timm");
  }
};

QTEST_GUILESS_MAIN(TestCliExportWeights)
#include "test_cli_export_weights.moc"
