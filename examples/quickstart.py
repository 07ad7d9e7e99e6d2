"""
Quickstart: an attention network on a bundled dataset
=====================================================

Train :class:`skattn.AttentionClassifier` on scikit-learn's breast cancer
set and print its test accuracy next to a gradient-boosting baseline.
"""

from sklearn.datasets import load_breast_cancer
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.model_selection import train_test_split

from skattn import AttentionClassifier

X, y = load_breast_cancer(return_X_y=True, as_frame=True)
X_train, X_test, y_train, y_test = train_test_split(X, y, stratify=y, random_state=0)

clf = AttentionClassifier(random_state=0).fit(X_train, y_train)
baseline = HistGradientBoostingClassifier(random_state=0).fit(X_train, y_train)

print(
    f"AttentionClassifier test accuracy: {clf.score(X_test, y_test):.3f} "
    f"({clf.n_iter_} epochs on {clf.device_})"
)
print(f"HistGradientBoosting test accuracy: {baseline.score(X_test, y_test):.3f}")
