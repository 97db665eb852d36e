// PNG, WebP, GIF and BMP decoders against ImageMagick's pixels (being written).
#include <gtest/gtest.h>
