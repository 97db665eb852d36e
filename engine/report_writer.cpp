#include "report_writer.hpp"

#include <errno.h>
#include <string.h>

#include <stdexcept>

#include "digest.hpp"
#include "json.hpp"

namespace hm {

namespace {

void json_key(std::string& out, const char* key) {
  out.push_back(',');
  out.push_back('"');
  out += key;
  out += "\":";
}

void json_string_field(std::string& out, const char* key, const std::string& value) {
  json_key(out, key);
  append_json_string(out, value);
}

void json_int_field(std::string& out, const char* key, uint64_t value) {
  json_key(out, key);
  out += std::to_string(value);
}

const char* status_of(const HashRecord& r) { return r.ok() ? "ok" : "error"; }

}  // namespace

void append_matches_json(std::string& out, const std::vector<Match>& matches) {
  out += "\"matches\":[";
  for (size_t i = 0; i < matches.size(); ++i) {
    const Match& m = matches[i];
    if (i) out.push_back(',');
    out += "{\"list\":";
    append_json_string(out, m.list);
    json_string_field(out, "signal", m.signal);
    json_string_field(out, "id", m.id);
    json_string_field(out, "hash", m.hash);
    json_int_field(out, "distance", (uint64_t)m.distance);
    json_string_field(out, "transform", kDihedralNames[m.transform]);
    if (!m.metadata.empty()) {
      json_key(out, "meta");
      out.push_back('{');
      for (size_t j = 0; j < m.metadata.size(); ++j) {
        if (j) out.push_back(',');
        append_json_string(out, m.metadata[j].first);
        out.push_back(':');
        append_json_string(out, m.metadata[j].second);
      }
      out.push_back('}');
    }
    out.push_back('}');
  }
  out.push_back(']');
}

std::string matches_summary(const std::vector<Match>& matches) {
  std::string out;
  for (size_t i = 0; i < matches.size(); ++i) {
    const Match& m = matches[i];
    if (i) out += "; ";
    out += m.list + ":" + m.id + ":" + std::to_string(m.distance) + ":" + kDihedralNames[m.transform];
  }
  return out;
}

std::string record_to_json(const HashRecord& r, const ReportFields& f) {
  std::string out = "{\"path\":";
  append_json_string(out, r.path);
  if (!is_valid_utf8(r.path))
    json_string_field(out, "path_hex", to_hex((const uint8_t*)r.path.data(), r.path.size()));
  json_string_field(out, "status", status_of(r));
  if (!r.ok()) json_string_field(out, "error", r.error);
  if (r.has_bytes) json_int_field(out, "bytes", r.bytes);
  if (!r.format.empty()) json_string_field(out, "format", r.format);
  if (r.width > 0 && r.height > 0) {
    json_int_field(out, "width", (uint64_t)r.width);
    json_int_field(out, "height", (uint64_t)r.height);
  }
  if (f.pdq && r.has_pdq) {
    if (f.decode_fast && r.format == "jpeg") json_string_field(out, "decode", "fast");
    json_string_field(out, "pdq", pdq_hex(r.pdq));
    json_int_field(out, "quality", (uint64_t)r.quality);
    if (r.pdq_below_min_size) {
      json_key(out, "pdq_below_min_size");
      out += "true";
    }
    if (f.dihedral && r.has_dihedral) {
      json_key(out, "pdq_dihedral");
      out.push_back('[');
      for (size_t t = 0; t < r.dihedral.size(); ++t) {
        if (t) out.push_back(',');
        append_json_string(out, pdq_hex(r.dihedral[t]));
      }
      out.push_back(']');
    }
  }
  if (f.md5 && !r.md5.empty()) json_string_field(out, "md5", r.md5);
  if (f.sha1 && !r.sha1.empty()) json_string_field(out, "sha1", r.sha1);
  if (f.sha256 && !r.sha256.empty()) json_string_field(out, "sha256", r.sha256);
  if (f.matches && r.has_matches) {
    if (r.low_quality) {
      json_key(out, "low_quality");
      out += "true";
    }
    out.push_back(',');
    append_matches_json(out, r.matches);
  }
  if (!r.warnings.empty()) {
    json_key(out, "warnings");
    out.push_back('[');
    for (size_t i = 0; i < r.warnings.size(); ++i) {
      if (i) out.push_back(',');
      append_json_string(out, r.warnings[i]);
    }
    out.push_back(']');
  }
  out.push_back('}');
  return out;
}

std::string csv_header(const ReportFields& f) {
  std::string out = "path,status,error,bytes,format,width,height";
  if (f.pdq) {
    out += ",pdq,quality";
    if (f.dihedral)
      for (size_t t = 1; t < kDihedralNames.size(); ++t) out += std::string(",pdq_") + kDihedralNames[t];
  }
  if (f.md5) out += ",md5";
  if (f.sha1) out += ",sha1";
  if (f.sha256) out += ",sha256";
  if (f.matches) out += ",match_count,matches";
  out += ",warnings";
  return out;
}

std::string record_to_csv(const HashRecord& r, const ReportFields& f) {
  std::string out;
  append_csv_field(out, r.path);
  out += ',';
  out += status_of(r);
  out += ',';
  append_csv_field(out, r.error);
  out += ',';
  if (r.has_bytes) out += std::to_string(r.bytes);
  out += ',' + r.format + ',';
  if (r.width > 0) out += std::to_string(r.width);
  out += ',';
  if (r.height > 0) out += std::to_string(r.height);
  if (f.pdq) {
    out += ',';
    if (r.has_pdq) out += pdq_hex(r.pdq) + ',' + std::to_string(r.quality);
    else out += ',';
    if (f.dihedral)
      for (size_t t = 1; t < r.dihedral.size(); ++t) {
        out += ',';
        if (r.has_dihedral) out += pdq_hex(r.dihedral[t]);
      }
  }
  if (f.md5) out += ',' + r.md5;
  if (f.sha1) out += ',' + r.sha1;
  if (f.sha256) out += ',' + r.sha256;
  if (f.matches) {
    out += ',';
    if (r.has_matches) out += std::to_string(r.matches.size());
    out += ',';
    append_csv_field(out, matches_summary(r.matches));
  }
  out += ',';
  std::string warnings;
  for (size_t i = 0; i < r.warnings.size(); ++i) warnings += (i ? "; " : "") + r.warnings[i];
  append_csv_field(out, warnings);
  return out;
}

std::string record_to_text(const HashRecord& r, const ReportFields& f) {
  std::string out;
  if (!r.ok()) {
    out = "error: " + r.error;
  } else {
    auto add = [&](const std::string& s) {
      if (!out.empty()) out.push_back(' ');
      out += s;
    };
    if (f.pdq && r.has_pdq) {
      add(pdq_hex(r.pdq));
      add(std::to_string(r.quality));
      if (f.dihedral && r.has_dihedral)
        for (size_t t = 1; t < r.dihedral.size(); ++t) add(pdq_hex(r.dihedral[t]));
    }
    if (f.md5) add(r.md5);
    if (f.sha1) add(r.sha1);
    if (f.sha256) add(r.sha256);
  }
  out += "  ";
  out += r.path;
  if (f.matches && r.has_matches) {
    if (!r.matches.empty()) out += "  matches: " + matches_summary(r.matches);
    else if (r.low_quality) out += "  (quality below the floor: not matched)";
  }
  return out;
}

ReportWriter::ReportWriter(FILE* out, ReportFormat format, ReportFields fields)
    : out_(out), format_(format), fields_(fields) {}

void ReportWriter::put(const std::string& line) {
  if (fwrite(line.data(), 1, line.size(), out_) != line.size() || fputc('\n', out_) == EOF)
    throw std::runtime_error(std::string("cannot write the report: ") + strerror(errno));
}

void ReportWriter::write(const HashRecord& record) {
  switch (format_) {
    case ReportFormat::Jsonl:
      put(record_to_json(record, fields_));
      break;
    case ReportFormat::Csv:
      if (!header_written_) put(csv_header(fields_));
      header_written_ = true;
      put(record_to_csv(record, fields_));
      break;
    case ReportFormat::Text:
      put(record_to_text(record, fields_));
      break;
  }
}

void ReportWriter::flush() {
  // A CSV report always has its header, even with no records.
  if (format_ == ReportFormat::Csv && !header_written_) {
    put(csv_header(fields_));
    header_written_ = true;
  }
  if (fflush(out_) != 0)
    throw std::runtime_error(std::string("cannot write the report: ") + strerror(errno));
}

}  // namespace hm
