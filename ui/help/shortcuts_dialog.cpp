#include "help/shortcuts_dialog.h"

#include <QAction>
#include <QDialogButtonBox>
#include <QHeaderView>
#include <QMenu>
#include <QTableWidget>
#include <QVBoxLayout>

#include "view/image_view.h"

namespace mls {

namespace {
QString plainText(const QAction* action) {
  QString text = action->text();
  text.replace(QStringLiteral("&&"), QStringLiteral("\x01")).remove(QLatin1Char('&')).replace(QLatin1Char('\x01'), QLatin1Char('&'));
  if (text.endsWith(QStringLiteral("\u2026"))) text.chop(1);
  if (text.endsWith(QStringLiteral("..."))) text.chop(3);
  return text;
}
}  // namespace

std::vector<KeyBinding> ShortcutsDialog::actionBindings(const QWidget* window) {
  std::vector<KeyBinding> out;
  if (!window) return out;
  for (const QAction* action : window->findChildren<QAction*>()) {
    const auto keys = action->shortcuts();
    if (keys.isEmpty() || action->isSeparator()) continue;
    QStringList names;
    for (const auto& key : keys) names << key.toString(QKeySequence::NativeText);
    QString where = tr("Window");
    for (const QObject* w : action->associatedObjects())
      if (auto* menu = qobject_cast<const QMenu*>(w)) {
        where = tr("%1 menu").arg(plainText(menu->menuAction()));
        break;
      }
    out.push_back({names.join(QStringLiteral(", ")), plainText(action), where});
  }
  return out;
}

ShortcutsDialog::ShortcutsDialog(QWidget* window, const std::vector<KeyBinding>& panel_keys, QWidget* parent)
    : QDialog(parent ? parent : window) {
  setWindowTitle(tr("Keyboard shortcuts"));
  std::vector<KeyBinding> rows = panel_keys;
  for (auto& b : actionBindings(window)) rows.push_back(std::move(b));
  for (auto& b : ImageView::mouseBindings()) rows.push_back(std::move(b));

  table_ = new QTableWidget(static_cast<int>(rows.size()), 3, this);
  table_->setHorizontalHeaderLabels({tr("Keys"), tr("Action"), tr("Where")});
  table_->verticalHeader()->hide();
  table_->setEditTriggers(QAbstractItemView::NoEditTriggers);
  table_->setSelectionBehavior(QAbstractItemView::SelectRows);
  table_->setWordWrap(true);
  for (int r = 0; r < static_cast<int>(rows.size()); ++r) {
    const auto& b = rows[static_cast<size_t>(r)];
    table_->setItem(r, 0, new QTableWidgetItem(b.keys));
    table_->setItem(r, 1, new QTableWidgetItem(b.action));
    table_->setItem(r, 2, new QTableWidgetItem(b.context));
  }
  table_->horizontalHeader()->setSectionResizeMode(0, QHeaderView::ResizeToContents);
  table_->horizontalHeader()->setSectionResizeMode(1, QHeaderView::Stretch);
  table_->horizontalHeader()->setSectionResizeMode(2, QHeaderView::ResizeToContents);
  table_->resizeRowsToContents();

  auto* buttons = new QDialogButtonBox(QDialogButtonBox::Close, this);
  connect(buttons, &QDialogButtonBox::rejected, this, &QDialog::reject);
  auto* layout = new QVBoxLayout(this);
  layout->addWidget(table_);
  layout->addWidget(buttons);
  resize(640, 520);
}

}  // namespace mls
