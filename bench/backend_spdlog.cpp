/* SPDX-License-Identifier: MIT */
/* The spdlog peer: spdlog's async logger into a file, as a C++ program
 * would use it (one background thread, a queue of 262,144 messages, the
 * default policy: block when the queue is full). */
#include <cerrno>
#include <memory>
#include <string_view>

#include <spdlog/async.h>
#include <spdlog/sinks/basic_file_sink.h>
#include <spdlog/spdlog.h>

#include "backend.h"

static void *spdlog_open(const struct backend_args *a)
{
	try {
		spdlog::init_thread_pool(262144, 1);
		auto lg = spdlog::basic_logger_mt<spdlog::async_factory>("bench", a->path);
		return new std::shared_ptr<spdlog::logger>(lg);
	} catch (const std::exception &) {
		errno = EIO;
		return nullptr;
	}
}

static int spdlog_log(void *ctx, const char *msg, size_t len)
{
	(*static_cast<std::shared_ptr<spdlog::logger> *>(ctx))->info("{}", std::string_view(msg, len));
	return 0;
}

static int spdlog_sync(void *ctx)
{
	(*static_cast<std::shared_ptr<spdlog::logger> *>(ctx))->flush();
	return 0;
}

static void spdlog_close(void *ctx)
{
	delete static_cast<std::shared_ptr<spdlog::logger> *>(ctx);
	spdlog::shutdown();
}

extern "C" const struct backend backend_spdlog = {
	"spdlog", spdlog_open, spdlog_log, spdlog_sync, spdlog_close,
};
