/**
 * The model card's four widget examples (ModelScope damo/nlp_corom_sentence-embedding_chinese-base),
 * verbatim -- including the card's own typos such as "在交>流电路中" -- so the Playground reproduces
 * the card's widget input for input. test/playground/examples.test.ts pins them to the fixture's
 * expected.json (cases example-1..example-4).
 */
export interface PlaygroundExample {
  /** The expected.json case name. */
  id: string;
  /** Button label, as on the model card. */
  label: string;
  source: string;
  compare: readonly string[];
}

export const MODEL_CARD_EXAMPLES: readonly PlaygroundExample[] = [
  {
    id: 'example-1',
    label: '示例1',
    source: '功和功率的区别',
    compare: [
      '功反映做功多少，功率反映做功快慢。',
      '什么是有功功率和无功功率?无功功率有什么用什么是有功功率和无功功率?无功功率有什么用电力系统中的电源是由发电机产生的三相正弦交流电,在交>流电路中,由电源供给负载的电功率有两种;一种是有功功率,一种是无功功率.',
      '优质解答在物理学中,用电功率表示消耗电能的快慢．电功率用P表示,它的单位是瓦特（Watt）,简称瓦（Wa）符号是W.电流在单位时间内做的功叫做电功率 以灯泡为例,电功率越大,灯泡越亮.灯泡的亮暗由电功率（实际功率）决定,不由通过的电流、电压、电能决定!',
    ],
  },
  {
    id: 'example-2',
    label: '示例2',
    source: '什么是桥',
    compare: [
      '由全国科学技术名词审定委员会审定的科技名词“桥”的定义为：跨越河流、山谷、障碍物或其他交通线而修建的架空通道',
      '桥是一种连接两岸的建筑',
      '转向桥，是指承担转向任务的车桥。一般汽车的前桥是转向桥。四轮转向汽车的前后桥，都是转向桥。',
      '桥梁艺术研究桥梁美学效果的艺术。起源于人类修建桥梁的实践。作为一种建筑，由于功能不同、使用材料有差别，桥梁表现为不同的结构和形式。基本的有拱桥、梁桥和吊桥。',
    ],
  },
  {
    id: 'example-3',
    label: '示例3',
    source: '福鼎在哪个市',
    compare: [
      '福鼎是福建省宁德市福鼎市。',
      '福鼎位于福建省东北部，东南濒东海，水系发达，岛屿星罗棋布。除此之外，福鼎地貌丰富，著名的太姥山就在福鼎辖内，以峰险、石奇、洞幽、雾幻四绝著称于世。',
      '福鼎市人民政府真诚的欢迎国内外朋友前往迷人的太姥山观光、旅游。',
      '福建省福鼎市桐山街道,地处福鼎城区,地理环境优越,三面环山,东临大海,境内水陆交通方便,是福鼎政治、经济、文化、交通中心区。',
    ],
  },
  {
    id: 'example-4',
    label: '示例4',
    source: '吃完海鲜可以喝牛奶吗?',
    compare: [
      '不可以，早晨喝牛奶不科学',
      '吃了海鲜后是不能再喝牛奶的，因为牛奶中含得有维生素C，如果海鲜喝牛奶一起服用会对人体造成一定的伤害',
      '吃海鲜是不能同时喝牛奶吃水果，这个至少间隔6小时以上才可以。',
      '吃海鲜是不可以吃柠檬的因为其中的维生素C会和海鲜中的矿物质形成砷',
    ],
  },
];

/**
 * The ranking view's example: the code example of the ranker model card (ModelScope
 * damo/nlp_rom_passage-ranking_chinese-base README, "代码范例"), verbatim -- its second passage
 * ends in "。" where the embedding card's widget has "." -- so a real coROM ranker reproduces the
 * card's printed scores ({'scores': [0.9717444181442261, 0.005540850106626749, 0.8629351258277893]}).
 */
export const RANKING_CARD_EXAMPLE = {
  label: '模型卡示例',
  query: '功和功率的区别',
  passages: [
    '功反映做功多少，功率反映做功快慢。',
    '什么是有功功率和无功功率?无功功率有什么用什么是有功功率和无功功率?无功功率有什么用电力系统中的电源是由发电机产生的三相正弦交流电,在交>流电路中,由电源供给负载的电功率有两种;一种是有功功率,一种是无功功率。',
    '优质解答在物理学中,用电功率表示消耗电能的快慢．电功率用P表示,它的单位是瓦特（Watt）,简称瓦（Wa）符号是W.电流在单位时间内做的功叫做电功率 以灯泡为例,电功率越大,灯泡越亮.灯泡的亮暗由电功率（实际功率）决定,不由通过的电流、电压、电能决定!',
  ],
} as const;
