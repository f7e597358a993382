// The whole public C++ API of foveal::core.
#pragma once

#include "foveal/border.hpp"
#include "foveal/cpu_features.hpp"
#include "foveal/error.hpp"
#include "foveal/image.hpp"
#include "foveal/morphology.hpp"
#include "foveal/attention.hpp"
#include "foveal/nn.hpp"
#include "foveal/parallel.hpp"
#include "foveal/segment.hpp"
#include "foveal/version.hpp"
