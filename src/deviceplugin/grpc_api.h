// The generated gRPC code of api.proto, included through here: its WithRawCallbackMethod_*
// templates hide overloads of the typed methods, which clang's -Woverloaded-virtual (part of
// -Wall there) reports against the generated header. It is not our code to change.
#pragma once

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Woverloaded-virtual"
#include "deviceplugin/api.grpc.pb.h"
#pragma GCC diagnostic pop
