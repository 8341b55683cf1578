// libsvm's C interface (Debian: libsvm-dev), the SVM library scikit-learn's SVC wraps (in a fork).
#include <libsvm/svm.h>
