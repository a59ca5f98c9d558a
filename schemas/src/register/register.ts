/**
 * The processing register: both privacy notices of Digitaliseringsstyrelsen as data.
 *
 *  - MitID privacy notice, version 1.6      → notices/mitid-1.6.txt  (sources 'MitID §n')
 *  - NemKonto register privacy notice       → notices/nemkonto.txt   (sources 'NemKonto: <part>')
 *
 * Every quote is verbatim (up to whitespace and apostrophe style); a test checks that each one occurs
 * in its notice. Where the notices leave something open, the reading chosen is written down in the
 * notice's `remarks`, in a recipient's `roleNote`, or as `categoriesBasis: 'inferred'` on a flow.
 */
import type {
  DataCategory,
  DataSubjectRight,
  Flow,
  LegalBasis,
  NoticeId,
  ProcessingActivity,
  ProcessingRegister,
  Purpose,
  RetentionRule,
  SourceRef,
  Sources,
} from './types.ts';

const M = (section: string, quote: string): SourceRef => ({ source: `MitID ${section}`, quote });
const N = (part: string, quote: string): SourceRef => ({ source: `NemKonto: ${part}`, quote });
const S = (notice: NoticeId, section: string, quote: string): SourceRef => (notice === 'mitid' ? M(section, quote) : N(section, quote));
const supportSection = (n: NoticeId): string => (n === 'mitid' ? '§9' : 'support');
const supportStorage = (n: NoticeId): string => (n === 'mitid' ? '§9' : 'support storage');
const label = (n: NoticeId): string => (n === 'mitid' ? 'MitID' : 'NemKonto');

/** Adds DPA §11(1) to a flow's bases exactly when it carries the CPR number. */
const withCpr = (bases: readonly LegalBasis[], categories: readonly string[]): LegalBasis[] =>
  categories.includes('cpr-number') ? [...bases, 'DPA_S11_1'] : [...bases];

// ---------------------------------------------------------------------------------------------------
// Category groups
// ---------------------------------------------------------------------------------------------------
const MITID_IDENTITY = [
  'name', 'date-of-birth', 'user-id', 'email-address', 'mobile-phone-number', 'address', 'alternative-address',
  'identification-document-information', 'identification-document-number-pseudonymised', 'cpr-information', 'cpr-number',
] as const;
const MITID_WITNESS = ['witness-identification-document', 'cvr-number', 'witness-type'] as const;
const MITID_USE = ['risk-data', 'authentication-response'] as const;
const MITID_WEB_TRAFFIC = ['ip-address', 'visited-urls', 'ip-geolocation', 'browser-information', 'operating-system-information'] as const;
const MITID_CORE_CATEGORIES = [...MITID_IDENTITY, ...MITID_WITNESS, ...MITID_USE, ...MITID_WEB_TRAFFIC];
const MITID_VERIFICATION = ['passport-photo-page-data', 'liveness-video', 'facial-recognition-3d-attributes'] as const;
const NEMKONTO_ACCOUNT = ['name', 'address', 'tax-id-number', 'bank-account-information', 'cpr-number'] as const;
const NEMKONTO_TRANSACTIONS = ['transaction-history', 'type-of-benefit'] as const;
const NEMKONTO_CATEGORIES = [...NEMKONTO_ACCOUNT, ...NEMKONTO_TRANSACTIONS];

const MITID_CORE_BASES: LegalBasis[] = ['MITID_ACT_783_2021', 'GDPR_ART6_1_E'];
const NEMKONTO_BASES: LegalBasis[] = ['LBK_494_2023', 'BEK_647_2021', 'GDPR_ART6_1_E'];

// ---------------------------------------------------------------------------------------------------
// Support (the two notices describe it in near-identical words; MitID adds live chat, the CPR phone
// menu, screen-sharing retention and anonymised statistics)
// ---------------------------------------------------------------------------------------------------
function supportPurposes(n: NoticeId): Purpose[] {
  const L = label(n);
  const sec = supportSection(n);
  const st = supportStorage(n);
  const purposes: Purpose[] = [
    { id: `${n}-support`, noticeId: n, description: `Provision of support in relation to the use of ${L} and improvement of support services.`,
      sources: [S(n, sec, `The purpose of The Danish Agency for Digital Government’s processing of personal data when users contact ${L} Support is: Provision of support in relation to the use of ${L} and improvement of support services.`)] },
    { id: `${n}-support-training-quality-assurance`, noticeId: n, description: 'Training and quality assurance (recorded calls and, for MitID, recorded screen-sharing sessions).',
      sources: [S(n, st, 'The call is recorded for training and quality assurance purposes.')] },
    { id: `${n}-support-satisfaction-survey`, noticeId: n, description: 'Customer satisfaction survey sent after a call or written inquiry (with consent).',
      sources: [S(n, st, 'The customer satisfaction survey is sent based on your call.'), S(n, st, 'The customer satisfaction survey is sent based on your written inquiry.')] },
    { id: `${n}-support-trend-analysis`, noticeId: n, description: 'Anonymised analysis of trends in user calls by the support sub-processor, to improve the support service (with consent).',
      sources: [S(n, st, 'The data processor uses a data sub processor to analyze trends in user calls. This is done to improve the service of the support.')] },
    { id: `${n}-support-forwarding`, noticeId: n, description: 'Forwarding misdirected e-mails to the appropriate authority/unit.',
      sources: [S(n, sec, `E-mails that are misdirected to ${L} Support are, to the extent that is possible, forwarded to the appropriate authority/unit.`)] },
  ];
  if (n === 'mitid') {
    purposes.push({ id: 'mitid-support-statistics', noticeId: n, description: 'Statistics on support contacts, kept in anonymised form.',
      sources: [M('§9', 'For statistical purposes, data is stored in anonymized form for up to 5 years.')] });
  }
  return purposes;
}

function supportRetention(n: NoticeId): RetentionRule[] {
  const st = supportStorage(n);
  const activityIds = [`${n}-support`];
  const r = (id: string, categoryIds: string[], period: RetentionRule['period'], startsAt: string, description: string, sources: Sources, condition?: string): RetentionRule =>
    ({ id: `${n}-support-${id}`, noticeId: n, activityIds, categoryIds, period, startsAt, description, sources, ...(condition === undefined ? {} : { condition }) });
  const rules: RetentionRule[] = [
    r('call-recording-30-days', ['call-audio'], { kind: 'fixed', iso: 'P30D' }, 'the call', 'Recorded support calls are deleted after 30 days.',
      [S(n, st, 'With consent, the phone call is recorded and stored for 30 days, after which it is deleted.')], 'with consent to call recording'),
    r('survey-phone-number-90-days', ['phone-number'], { kind: 'fixed', iso: 'P90D' }, 'the call', 'Phone number given for the satisfaction survey is deleted after 90 days.',
      [S(n, st, 'With consent to receive a customer satisfaction survey, your phone number is deleted after 90 days')], 'with consent to a satisfaction survey'),
    r('survey-comment-180-days', ['survey-comment'], { kind: 'fixed', iso: 'P180D' }, 'the call or written inquiry', 'Comments in the satisfaction survey are deleted after 180 days.',
      [S(n, st, 'your comment is deleted after 180 days'), S(n, st, 'your comment in the customer satisfaction survey is deleted after 180 days')], 'with consent to a satisfaction survey'),
    r('survey-email-90-days', ['email-address'], { kind: 'fixed', iso: 'P90D' }, 'the written inquiry', 'E-mail address given for the satisfaction survey on a written inquiry is deleted after 90 days.',
      [S(n, st, 'With consent to receive a customer satisfaction survey in relation to written inquiries, your email is deleted after 90 days')], 'with consent to a satisfaction survey'),
    r('call-data-90-days', ['call-data', 'phone-number'], { kind: 'fixed', iso: 'P90D' }, 'the call', 'Call data in the processor\'s phone system is deleted after 90 days.',
      [S(n, st, "In the data processor's phone system, call data is deleted after 90 days (data includes phone number, date and time, call duration, queue selection, any callbacks, wait time, and supporter's name).")]),
    r('written-inquiries-6-months', ['written-inquiry', 'email-address'], { kind: 'fixed', iso: 'P6M' }, 'the inquiry', 'Written inquiries are deleted after 6 months.',
      [S(n, st, 'All written inquiries are stored for 6 months and then deleted.')]),
    r('forwarded-inquiries-archived', n === 'mitid' ? ['written-inquiry', 'email-address', 'live-chat-conversation', 'name'] : ['written-inquiry', 'email-address'],
      { kind: 'archived' }, 'the forwarding', 'Written inquiries forwarded to another authority are archived and stored.',
      [n === 'mitid'
        ? M('§9', 'All written inquiries (including live chat) that MitID Support forwards to another authority are archived and stored.')
        : N('support storage', 'All written inquiries that NemKonto Support forwards to another authority are archived and stored.')], 'forwarded to another authority'),
    r('complaints-archived', ['complaint'], { kind: 'archived' }, 'the complaint', 'Complaints are logged and stored.',
      [S(n, st, 'Any complaints will also be logged and stored.')]),
    r('call-analysis-audio-30-days', ['call-audio'], { kind: 'fixed', iso: 'P30D' }, 'the call', 'The call-analysis sub-processor deletes the audio after 30 days.',
      [S(n, st, 'The sub-processor retains the audio recording of the conversation for 30 days, after which it is deleted.')], 'held by the call-analysis sub-processor'),
  ];
  if (n === 'mitid') {
    rules.push(
      r('cpr-not-retained', ['cpr-number'], { kind: 'not-retained' }, 'the call', 'A CPR number typed in the phone menu is shown to the supporter during the call and never saved.',
        [M('§9', "Your CPR number will not be saved and will disappear from the supporter's screen when the call is terminated.")], 'entered in the support phone menu'),
      r('statistics-5-years', ['support-statistics-anonymised'], { kind: 'fixed', iso: 'P5Y' }, 'the contact', 'Anonymised statistics are kept for up to 5 years.',
        [M('§9', 'For statistical purposes, data is stored in anonymized form for up to 5 years.')]),
      r('screen-sharing-90-days', ['screen-sharing-session'], { kind: 'fixed', iso: 'P90D' }, 'the session', 'Recorded screen-sharing sessions are deleted automatically after 90 days.',
        [M('§9', 'With consent for screen sharing in the screen sharing tool, the video session is stored for 90 days, after which it is automatically deleted.')], 'with consent to screen sharing'),
      r('live-chat-6-months', ['live-chat-conversation', 'name'], { kind: 'fixed', iso: 'P6M' }, 'the chat', 'Live chat conversations (and the name entered) are deleted after 6 months.',
        [M('§9', 'In the live chat system, data is deleted after 6 months (data includes the conversation between the citizen and supporter, as well as the name entered by the customer in the field).')]),
    );
  } else {
    rules.push(
      r('screen-sharing-not-stated', ['screen-sharing-session'], { kind: 'not-stated' }, 'the session', 'The NemKonto notice offers screen sharing but states no retention for it.',
        [N('support', 'With NemKonto Support, users can receive help via phone, e-mail and screen sharing.')], 'with consent to screen sharing'),
    );
  }
  return rules;
}

function supportActivity(n: NoticeId, rules: readonly RetentionRule[], purposes: readonly Purpose[]): ProcessingActivity {
  const L = label(n);
  const sec = supportSection(n);
  const id = `${n}-support`;
  const rid = (s: string): string => `${n}-support-${s}`;
  const mitid = n === 'mitid';
  const inquiryCats = mitid
    ? ['phone-number', 'email-address', 'call-data', 'written-inquiry', 'complaint', 'live-chat-conversation', 'name', 'cpr-number']
    : ['phone-number', 'email-address', 'call-data', 'written-inquiry', 'complaint'];
  const forwardCats = mitid ? ['written-inquiry', 'email-address', 'live-chat-conversation', 'name'] : ['written-inquiry', 'email-address'];
  const consentBasis = S(n, sec, 'The legal basis for processing your personal data in relation to the customer satisfaction survey, including the anonymized survey of trends in the phone calls, screen sharing and/or phone recordings follows Article 6 of the Data Protection Regulation, paragraph 1, litra a, on consent.');
  const inquiryBasis = mitid
    ? M('§9', 'The legal basis for our processing of your data in relation to inquiries via phone, mail or live chat is based on the EU General Data Protection Regulation Article 6, paragraph 1, litra e')
    : N('support', 'The legal basis for our processing of your data in relation to inquiries via phone or mail is based on the EU General Data Protection Regulation Article 6, paragraph 1, litra e');
  const dba = 'danish-business-authority';
  const dbaSource = mitid
    ? M('§5', 'The Danish Business Authority is the data processor in relation to handling support.')
    : N('support', 'The Danish Business Authority is our processor in relation with support.');
  const flows: Flow[] = [
    { id: `${id}-dba-inquiries`, recipientId: dba, roles: ['PROCESSOR'], purposeIds: [`${n}-support`],
      legalBases: withCpr(['GDPR_ART6_1_E'], inquiryCats), categoryIds: inquiryCats, categoriesBasis: 'stated', consentScopes: [],
      retentionRuleIds: [rid('call-data-90-days'), rid('written-inquiries-6-months'), rid('forwarded-inquiries-archived'), rid('complaints-archived'),
        ...(mitid ? [rid('live-chat-6-months'), rid('cpr-not-retained')] : [])],
      description: `The support processor handles ${mitid ? 'phone, e-mail and live-chat' : 'phone and e-mail'} inquiries${mitid ? ' (and shows a CPR number typed in the phone menu)' : ''}.`,
      sources: [dbaSource, inquiryBasis, ...(mitid ? [M('§9', "The legal basis for our processing of your data, if you enter your CPR number in the support's phone menu, is section 11 of the Data Protection Act, paragraph 1, for processing of CPR.")] : [])] },
    { id: `${id}-dba-call-recording`, recipientId: dba, roles: ['PROCESSOR'], purposeIds: [`${n}-support-training-quality-assurance`],
      legalBases: ['GDPR_ART6_1_A'], categoryIds: ['call-audio'], categoriesBasis: 'stated', consentScopes: ['CALL_RECORDING'],
      retentionRuleIds: [rid('call-recording-30-days')], description: 'With consent, the support call is recorded.',
      sources: [consentBasis, S(n, supportStorage(n), 'With consent, the phone call is recorded and stored for 30 days')] },
    { id: `${id}-dba-screen-sharing`, recipientId: dba, roles: ['PROCESSOR'],
      purposeIds: mitid ? ['mitid-support', 'mitid-support-training-quality-assurance'] : ['nemkonto-support'],
      legalBases: ['GDPR_ART6_1_A'], categoryIds: ['screen-sharing-session'], categoriesBasis: 'stated', consentScopes: ['SCREEN_SHARING'],
      retentionRuleIds: [mitid ? rid('screen-sharing-90-days') : rid('screen-sharing-not-stated')],
      description: 'With consent, the supporter sees the personal information on the page where the user needs support.',
      sources: [consentBasis, S(n, sec, 'In relation to screen sharing, the supporter will be able to see the personal information that may appear on the page where you need support.')] },
    { id: `${id}-dba-satisfaction-survey`, recipientId: dba, roles: ['PROCESSOR'], purposeIds: [`${n}-support-satisfaction-survey`],
      legalBases: ['GDPR_ART6_1_A'], categoryIds: ['phone-number', 'email-address', 'survey-comment'], categoriesBasis: 'stated', consentScopes: ['SATISFACTION_SURVEY'],
      retentionRuleIds: [rid('survey-phone-number-90-days'), rid('survey-email-90-days'), rid('survey-comment-180-days')],
      description: 'With consent, a satisfaction survey is sent after a call (phone number) or written inquiry (e-mail address); the citizen\'s comment in it is a survey comment (personal detail surveyComment), not a written inquiry.',
      sources: [consentBasis, S(n, supportStorage(n), 'With consent to receive a customer satisfaction survey, your phone number is deleted after 90 days'),
        S(n, supportStorage(n), 'your comment in the customer satisfaction survey is deleted after 180 days')] },
    { id: `${id}-call-analysis`, recipientId: 'support-call-analysis-sub-processor', roles: ['SUB_PROCESSOR'], purposeIds: [`${n}-support-trend-analysis`],
      legalBases: ['GDPR_ART6_1_A'], categoryIds: ['call-audio'], categoriesBasis: 'stated', consentScopes: ['CALL_ANALYSIS', 'TREND_SURVEY'],
      retentionRuleIds: [rid('call-analysis-audio-30-days')],
      description: 'With consent, the call audio goes to the sub-processor, which converts it to text, anonymises it and analyses trends.',
      sources: [consentBasis, S(n, supportStorage(n), 'The conversations are transferred to the sub-processor, that immediately converts the speech to text and anonymizes the text.')] },
    { id: `${id}-forwarding`, recipientId: 'support-forwarding-authorities', roles: ['PUBLIC_AUTHORITY'], purposeIds: [`${n}-support-forwarding`],
      legalBases: ['GDPR_ART6_1_E'], categoryIds: forwardCats, categoriesBasis: 'inferred', consentScopes: [],
      retentionRuleIds: [rid('forwarded-inquiries-archived')],
      description: 'Misdirected e-mails are forwarded to the appropriate authority/unit (legal basis: the 6(1)(e) basis for mail inquiries).',
      sources: [S(n, sec, `E-mails that are misdirected to ${L} Support are, to the extent that is possible, forwarded to the appropriate authority/unit.`)] },
  ];
  const categoryIds = [...new Set([...flows.flatMap((f) => f.categoryIds), ...(mitid ? ['support-statistics-anonymised'] : [])])];
  return {
    id, noticeId: n, name: `${L} support`,
    description: `${L} Support helps users by ${mitid ? 'phone, e-mail, screen sharing and live chat' : 'phone, e-mail and screen sharing'}.`,
    dataSubjects: ['user contacting support'],
    purposeIds: purposes.filter((p) => p.id.startsWith(`${n}-support`)).map((p) => p.id),
    legalBases: mitid ? ['GDPR_ART6_1_E', 'GDPR_ART6_1_A', 'DPA_S11_1'] : ['GDPR_ART6_1_E', 'GDPR_ART6_1_A'],
    categoryIds,
    retentionRuleIds: rules.filter((r) => r.activityIds.includes(id)).map((r) => r.id),
    thirdCountryRuleIds: mitid ? ['mitid-greenland-faroe-scc'] : [],
    collectionSourceIds: [],
    flows,
    sources: [S(n, sec, `The Danish Agency for Digital Government also acts as the data controller regarding any personal data processed about you if you contact ${L} Support.`)],
  };
}

// ---------------------------------------------------------------------------------------------------
// Purposes, categories, retention
// ---------------------------------------------------------------------------------------------------
const purposes: Purpose[] = [
  { id: 'mitid-issuance-administration-use', noticeId: 'mitid', description: 'The issuance, administration and use of MitID in order to access digital services.',
    sources: [M('§3', 'The issuance, administration and use of MitID in order to access digital services.')] },
  { id: 'mitid-app-identity-verification', noticeId: 'mitid', description: 'Verification of an identity, or reactivation of a temporarily blocked authenticator, through the MitID app.',
    sources: [M('§4', 'Data used for verification of an identity or reactivation of a temporarily blocked authenticator through MitID app')] },
  { id: 'mitid-security-validation', noticeId: 'mitid', description: 'Validation by the MitID broker and securing an appropriate level of security for the transaction.',
    sources: [M('§5', 'for validation and securement of appropriate level of security')] },
  { id: 'mitid-exercise-of-authority', noticeId: 'mitid', description: 'Transfer to other public authorities where the agency is obliged to, limited to what the exercise of authority needs.',
    sources: [M('§5', 'The transfer will be limited to the personal data necessary for the exercise of authority.')] },
  { id: 'mitid-it-operations', noticeId: 'mitid', description: 'Operation and administration of the IT systems of the MitID solution.',
    sources: [M('§5', 'who assist with the operation and administration of IT systems related to the MitID solution')] },
  { id: 'mitid-traffic-security-analysis', noticeId: 'mitid', description: 'Akamai\'s traffic and security analysis of traffic to MitID, to prevent cyber attacks and for problem resolution and support.',
    sources: [M('§5', "for the purpose of Akamai's traffic and security analysis of traffic to MitID, aiming at continuous improvement of their overall solution to prevent cyber attacks on MitID and for problem resolution and support")] },
  ...supportPurposes('mitid'),
  { id: 'nemkonto-system', noticeId: 'nemkonto', description: 'Providing the NemKonto system to the citizen, public authorities and private payers.',
    sources: [N('purposes', 'to provide the NemKonto-system to you, public authorities, and private payers')] },
  { id: 'nemkonto-account-designation', noticeId: 'nemkonto', description: 'Informing the citizen\'s bank which account is the NemKonto.',
    sources: [N('recipients', 'We inform your bank about which account you wish to use as your NemKonto.')] },
  { id: 'nemkonto-payment-execution', noticeId: 'nemkonto', description: 'Execution of a payment by the payment-processing banks.',
    sources: [N('recipients', 'They receive your payment information from the NemKonto register in connection with the execution of a payment.')] },
  { id: 'nemkonto-payment-acknowledgement', noticeId: 'nemkonto', description: 'Acknowledgement responses to the sender (and its external auditor) after the transaction.',
    sources: [N('recipients', 'They receive acknowledgment responses after the transaction is completed.')] },
  { id: 'nemkonto-debt-collection', noticeId: 'nemkonto', description: 'Debt collection cases of the Danish Tax Authority.',
    sources: [N('recipients', 'They receives payment information in debt collection cases')] },
  { id: 'nemkonto-fraud-control', noticeId: 'nemkonto', description: 'The Danish Tax Authority\'s control function against economic crime and fraud.',
    sources: [N('recipients', 'as part of its control function to combat economic crime and fraud')] },
  { id: 'nemkonto-financial-stability', noticeId: 'nemkonto', description: 'Danmarks Nationalbank\'s work on financial stability and on currency and monetary policy.',
    sources: [N('recipients', "In connection with the national bank's work to ensure financial stability and their work regarding currency and monetary policy.")] },
  { id: 'nemkonto-transaction-accounting', noticeId: 'nemkonto', description: 'Accounting of transactions (the notice only says accounting centres receive transaction information).',
    sources: [N('recipients', 'Accounting centers: They receive transaction information.')] },
  { id: 'nemkonto-system-operation', noticeId: 'nemkonto', description: 'Technical operation of the NemKonto system.',
    sources: [N('recipients', 'The provider operates the NemKonto system and may therefore have access to personal information for technical reasons.')] },
  ...supportPurposes('nemkonto'),
];

const cat = (id: string, name: string, noticeIds: NoticeId[], description: string, sources: Sources, extra: Partial<DataCategory> = {}): DataCategory =>
  ({ id, name, noticeIds, description, special: false, confidential: false, sources, ...extra });

const dataCategories: DataCategory[] = [
  cat('name', 'Name', ['mitid', 'nemkonto'], 'Full name (MitID, mandatory); name (NemKonto, from CPR); the name typed in the MitID live chat.',
    [M('§4', 'Full name (mandatory)'), M('§9', 'as well as the name entered by the customer in the field'), N('categories', 'Ordinary personal information: - Name')], { requirement: 'mandatory' }),
  cat('date-of-birth', 'Date of birth', ['mitid'], 'Date of birth.', [M('§4', 'Date of birth (mandatory)')], { requirement: 'mandatory' }),
  cat('user-id', 'User ID', ['mitid'], 'MitID user ID.', [M('§4', 'User ID (mandatory)')], { requirement: 'mandatory' }),
  cat('email-address', 'E-mail address', ['mitid', 'nemkonto'], 'Optional MitID contact e-mail; the e-mail address of a written support inquiry.',
    [M('§4', 'Email address (optional)'), M('§9', 'your email is deleted after 90 days'), N('support storage', 'your email is deleted after 90 days')], { requirement: 'optional' }),
  cat('mobile-phone-number', 'Mobile phone number', ['mitid'], 'Mobile number, mandatory when the MitID app is used.',
    [M('§4', 'Mobile phone number (mandatory when using the MitID app)')], { requirement: 'mandatory-for-app' }),
  cat('address', 'Address', ['mitid', 'nemkonto'], 'Address of residence / address information, retrieved from CPR.',
    [M('§4', 'Address of residence (retrieved automatically from CPR)'), N('categories', 'Address information'), N('collection', 'Your name and address are obtained from the CPR register.')], { requirement: 'automatic' }),
  cat('alternative-address', 'Alternative address', ['mitid'], 'Optional address other than the CPR address.', [M('§4', 'Alternative address (optional)')], { requirement: 'optional' }),
  cat('identification-document-information', 'Identification documents', ['mitid'], 'Information about the identification documents used when getting MitID.',
    [M('§4', 'Information about the identification documents used when getting MitID')]),
  cat('identification-document-number-pseudonymised', 'Pseudonymised identification document number', ['mitid'], 'Pseudonymised passport, driver\'s licence or residence permit number.',
    [M('§4', "Pseudonymized value of identification document number, e.g., passport number, driver's license number or residence permit number.")]),
  cat('passport-photo-page-data', 'Passport photo page', ['mitid'], 'Photo and personal data from the photo page of a passport or other ICAO-compatible identification (MitID app verification).',
    [M('§4', 'Photo and personal data from the photo page in a passport (or other ICAO compatible identification).')]),
  cat('liveness-video', 'Liveness video', ['mitid'], 'Video used to detect whether a real face is used (liveness). Biometric in nature; the notice does not flag it as sensitive.',
    [M('§4', 'Video for detection of whether a real face is used (liveness) for verification.')]),
  cat('facial-recognition-3d-attributes', '3D facial recognition attributes', ['mitid'], '3D facial recognition attributes. Biometric in nature; the notice does not flag them as sensitive.',
    [M('§4', '3D facial recognition attributes.')]),
  cat('risk-data', 'Risk data', ['mitid'], 'Log-in location, device used, network information, identity and recent usage information.',
    [M('§4', 'Log-in location information, the device used for log-in, network information and identity and recent usage information.')]),
  cat('authentication-response', 'Authentication response', ['mitid'], 'Name, unique identification key, session ID, authenticators used, risk data and other attributes.',
    [M('§4', 'Contains your name, your unique identification key, unique session ID, your used session authenticators, risk data, and other attributes in the form of contact data, identity data and authentication data.')]),
  cat('cpr-information', 'CPR information', ['mitid'], 'Information from the Danish Civil Registration System (CPR).', [M('§4', 'Information from The Danish Civil Registration System (CPR)')]),
  cat('cpr-number', 'CPR number', ['mitid', 'nemkonto'], 'The Danish civil registration number (of the user or a witness; typed in the MitID support phone menu). Confidential; processed under DPA §11(1).',
    [M('§3', 'the Danish Data Protection Act § 11, para 1, litra 1, related to the processing of the Danish Civil Registration number (CPR number)'),
      M('§4A', 'the Danish Civil Registration number (CPR number)'), N('categories', 'Confidential personal information: - CPR number (Civil Registration Number)')],
    { confidential: true, requiredLegalBasis: 'DPA_S11_1' }),
  cat('witness-identification-document', 'Witness identification document', ['mitid'], 'Identification document type and number of a witness for a MitID applicant.',
    [M('§4A', 'Information about witnesses include e.g. identification document type, identification document number')]),
  cat('cvr-number', 'CVR number', ['mitid'], 'Danish Central Business Register number of a witness.', [M('§4A', 'Danish Central Business Register number (CVR)')]),
  cat('witness-type', 'Witness type', ['mitid'], 'The type of witness.', [M('§4A', 'and witness type')]),
  cat('ip-address', 'IP address', ['mitid'], 'IP addresses of traffic to MitID.', [M('§5', 'discloses IP addresses')]),
  cat('visited-urls', 'Visited URLs', ['mitid'], 'URLs of visited websites with timestamps, related to an IP address.', [M('§5', 'URL for visited websites including timestamps (related to an IP address)')]),
  cat('ip-geolocation', 'Geographic location from IP', ['mitid'], 'Geographic location based on IP addresses.', [M('§5', 'geographic location based on IP addresses')]),
  cat('browser-information', 'Browser version', ['mitid'], 'Browser version/engine.', [M('§5', 'information about browser version/engine')]),
  cat('operating-system-information', 'Operating system version', ['mitid'], 'Operating system version/engine.', [M('§5', 'operating system version/engine')]),
  cat('phone-number', 'Phone number', ['mitid', 'nemkonto'], 'The caller\'s phone number (call data; satisfaction survey).',
    [M('§9', 'your phone number is deleted after 90 days'), N('support storage', 'your phone number is deleted after 90 days')]),
  cat('call-audio', 'Call audio', ['mitid', 'nemkonto'], 'Audio of a support call: recorded with consent; transferred to the call-analysis sub-processor.',
    [M('§9', 'With consent, the phone call is recorded and stored for 30 days'), N('support storage', 'The sub-processor retains the audio recording of the conversation for 30 days')]),
  cat('call-data', 'Call data', ['mitid', 'nemkonto'], 'Phone number, date and time, duration, queue selection, callbacks, wait time, supporter\'s name.',
    [M('§9', 'data includes phone number, date and time, call duration, queue selection, any callbacks, wait time, and supporter\'s name'), N('support storage', 'call data is deleted after 90 days')]),
  cat('screen-sharing-session', 'Screen-sharing session', ['mitid', 'nemkonto'], 'What the supporter sees (and, for MitID, the recorded video session) during screen sharing.',
    [M('§9', 'the video session is stored for 90 days'), N('support', 'the supporter will be able to see the personal information that may appear on the page where you need support')]),
  cat('written-inquiry', 'Written inquiry', ['mitid', 'nemkonto'], 'The content of an e-mail (or MitID live chat) inquiry to support.',
    [M('§9', 'All written inquiries are stored for 6 months and then deleted.'), N('support storage', 'All written inquiries are stored for 6 months and then deleted.')]),
  cat('live-chat-conversation', 'Live chat conversation', ['mitid'], 'The conversation between citizen and supporter in the MitID live chat.',
    [M('§9', 'data includes the conversation between the citizen and supporter')]),
  cat('survey-comment', 'Satisfaction survey comment', ['mitid', 'nemkonto'], 'The comment given in a customer satisfaction survey.',
    [M('§9', 'your comment is deleted after 180 days'), N('support storage', 'your comment is deleted after 180 days')]),
  cat('complaint', 'Complaint', ['mitid', 'nemkonto'], 'A complaint made to support.', [M('§9', 'Any complaints will also be logged and stored.'), N('support storage', 'Any complaints will also be logged and stored.')]),
  cat('support-statistics-anonymised', 'Anonymised support statistics', ['mitid'], 'Statistics in anonymised form (not personal data; listed for its retention rule).',
    [M('§9', 'For statistical purposes, data is stored in anonymized form for up to 5 years.')], { anonymised: true }),
  cat('tax-id-number', 'Tax ID number', ['nemkonto'], 'Tax identification number.', [N('categories', 'Tax ID Number')]),
  cat('bank-account-information', 'Bank account information', ['nemkonto'], 'The account chosen as NemKonto (account number).',
    [N('categories', 'Bank account information'), N('collection', 'we obtain your account number from one of the following channels')]),
  cat('transaction-history', 'Transaction history', ['nemkonto'], 'Amounts, sender, recipient, date etc.; may reveal confidential, social, occupational and economic details, e.g. union affiliation.',
    [N('categories', 'Personal information that may be subject to special rules under the General Data Protection Regulation or the Data Protection Act: - Transaction history, including type of benefit'),
      N('categories', 'This could, for example, be the disbursement of unemployment benefits from your union, indicating a union affiliation.')], { special: true, confidential: true }),
  cat('type-of-benefit', 'Type of benefit', ['nemkonto'], 'The type of payment order, e.g. sickness benefits, disability supplements, funeral assistance, child support.',
    [N('categories', 'Type of benefit on the payment order: The type of benefit refers to the type of payment order'),
      N('categories', 'Thus, the type of benefit can indicate confidential or sensitive information about you.')], { special: true, confidential: true }),
];

const retentionRules: RetentionRule[] = [
  { id: 'mitid-core-while-necessary', noticeId: 'mitid', activityIds: ['mitid-core'], categoryIds: MITID_CORE_CATEGORIES, period: { kind: 'while-necessary' },
    startsAt: 'registration', description: 'Kept as long as necessary for issuing, administering and using MitID.',
    sources: [M('§8', 'stores and processes your personal data for as long as it is necessary in relation to the issuing, administering, and using MitID for accessing digital services')] },
  { id: 'mitid-verification-1-day', noticeId: 'mitid', activityIds: ['mitid-identity-verification'], categoryIds: [...MITID_VERIFICATION], period: { kind: 'fixed', iso: 'P1D' },
    startsAt: 'the verification', condition: 'liveness and 3D face data; passport photo page only for a passport (or ICAO identification) not issued in Denmark',
    description: 'Stored encrypted for at most one day, then deleted.',
    sources: [M('§8', 'When verifying an identity through the MitID app, personal data from registration of liveness and 3D face recognition, as well as personal data from the photo page in a passport (or other ICAO compatible identification) that has not been issued in Denmark, is stored encrypted for a maximum of one day, after which the data are deleted.')] },
  { id: 'mitid-verification-danish-passport-1-hour', noticeId: 'mitid', activityIds: ['mitid-identity-verification'], categoryIds: ['passport-photo-page-data'],
    period: { kind: 'fixed', iso: 'PT1H' }, startsAt: 'the verification', condition: 'passport issued in Denmark',
    description: 'Stored encrypted in temporary memory while the session is active, at most one hour, then deleted.',
    sources: [M('§8', 'Personal data from the photo page in a passport issued in Denmark is stored encrypted in temporary memory while the session is active, and for a maximum of one hour, after which the data is deleted.')] },
  ...supportRetention('mitid'),
  { id: 'nemkonto-account-end-of-year-plus-10', noticeId: 'nemkonto', activityIds: ['nemkonto-register'], categoryIds: [...NEMKONTO_ACCOUNT],
    period: { kind: 'end-of-year-plus', years: 10 }, startsAt: 'the last time a monetary amount was designated to the account',
    description: 'NemKontos and specific accounts are deleted when no amounts have been designated to them in the current year plus 10 years.',
    sources: [N('storage', 'NemKontos and specific accounts are deleted by the system administrator for the NemKonto-system when no monetary amounts have been designated to these accounts in the current year plus 10 years.')] },
  { id: 'nemkonto-transactions-not-stated', noticeId: 'nemkonto', activityIds: ['nemkonto-register'], categoryIds: [...NEMKONTO_TRANSACTIONS],
    period: { kind: 'not-stated' }, startsAt: 'the payment', description: 'The notice states no retention for transaction history or type of benefit.',
    sources: [N('categories', 'Transaction history, including type of benefit')] },
  ...supportRetention('nemkonto'),
];

// ---------------------------------------------------------------------------------------------------
// Activities
// ---------------------------------------------------------------------------------------------------
const mitidCore: ProcessingActivity = {
  id: 'mitid-core', noticeId: 'mitid', name: 'MitID issuance, administration and use',
  description: 'Issuing MitID, administering it (synchronised with CPR) and using it to log in to digital services.',
  dataSubjects: ['MitID user', 'witness for a MitID applicant'],
  purposeIds: ['mitid-issuance-administration-use', 'mitid-security-validation', 'mitid-exercise-of-authority', 'mitid-it-operations', 'mitid-traffic-security-analysis'],
  legalBases: ['MITID_ACT_783_2021', 'GDPR_ART6_1_E', 'DPA_S11_1'],
  categoryIds: MITID_CORE_CATEGORIES,
  retentionRuleIds: ['mitid-core-while-necessary'],
  thirdCountryRuleIds: ['mitid-greenland-faroe-scc'],
  collectionSourceIds: ['citizen-service-or-bank', 'mitid-online-order', 'mitid-self-service', 'cpr-registry', 'passport-driver-licence-registry', 'danish-address-registry'],
  flows: [
    { id: 'mitid-core-nets-danid', recipientId: 'nets-danid', roles: ['PROCESSOR'], purposeIds: ['mitid-issuance-administration-use'],
      legalBases: withCpr(MITID_CORE_BASES, MITID_CORE_CATEGORIES), categoryIds: MITID_CORE_CATEGORIES, categoriesBasis: 'inferred', consentScopes: [],
      retentionRuleIds: ['mitid-core-while-necessary'], description: 'Nets DanID supplies the MitID solution as data processor.',
      sources: [M('§5', 'Nets DanID A/S is the data processor for the Danish Agency for Digital Government and the supplier of the MitID solution.')] },
    { id: 'mitid-core-it-operations-processors', recipientId: 'it-operations-processors', roles: ['PROCESSOR'], purposeIds: ['mitid-it-operations', 'mitid-issuance-administration-use'],
      legalBases: withCpr(MITID_CORE_BASES, MITID_CORE_CATEGORIES), categoryIds: MITID_CORE_CATEGORIES, categoriesBasis: 'inferred', consentScopes: [],
      retentionRuleIds: ['mitid-core-while-necessary'], description: 'Data processors operating and administering the MitID IT systems.',
      sources: [M('§5', 'The Danish Agency for Digital Government hands over your personal data to the data processors of the Danish Agency for Digital Government')] },
    { id: 'mitid-core-registration-authority', recipientId: 'registration-authority', roles: ['SUB_PROCESSOR'], purposeIds: ['mitid-issuance-administration-use'],
      legalBases: withCpr(MITID_CORE_BASES, [...MITID_IDENTITY, ...MITID_WITNESS]), categoryIds: [...MITID_IDENTITY, ...MITID_WITNESS], categoriesBasis: 'inferred', consentScopes: [],
      retentionRuleIds: ['mitid-core-while-necessary'], description: 'Registration Authorities (Citizen Service units, banks) register the user, with a witness where needed.',
      sources: [M('§5', 'RA’s are Registration Authorities and data sub processors in the MitID solution.')] },
    { id: 'mitid-core-mitid-broker', recipientId: 'mitid-broker', roles: ['SUB_PROCESSOR', 'PUBLIC_AUTHORITY', 'CONTROLLER'],
      purposeIds: ['mitid-security-validation', 'mitid-issuance-administration-use'],
      legalBases: [...MITID_CORE_BASES], categoryIds: [...MITID_USE], categoriesBasis: 'stated', consentScopes: [],
      retentionRuleIds: ['mitid-core-while-necessary'], description: 'Risk data and the authentication response of one transaction go to the MitID broker.',
      sources: [M('§5', 'The Danish Agency for Digital Government transfers information about risk data and authentication responses about the specific and individual transaction to a public authority or a company in the role of MitID Broker for validation and securement of appropriate level of security.')] },
    { id: 'mitid-core-akamai-denmark', recipientId: 'akamai-denmark', roles: ['CONTROLLER'], purposeIds: ['mitid-traffic-security-analysis'],
      legalBases: [...MITID_CORE_BASES], categoryIds: [...MITID_WEB_TRAFFIC], categoriesBasis: 'stated', consentScopes: [],
      retentionRuleIds: ['mitid-core-while-necessary'], description: 'Web traffic data is disclosed to Akamai for its traffic and security analysis.',
      sources: [M('§5', 'The Danish Agency for Digital Government discloses IP addresses, URL for visited websites including timestamps (related to an IP address), geographic location based on IP addresses and information about browser version/engine, and operating system version/engine to Akamai Denmark')] },
    { id: 'mitid-core-other-public-authorities', recipientId: 'other-public-authorities', roles: ['PUBLIC_AUTHORITY'], purposeIds: ['mitid-exercise-of-authority'],
      legalBases: withCpr(MITID_CORE_BASES, [...MITID_IDENTITY, ...MITID_WITNESS, ...MITID_USE]), categoryIds: [...MITID_IDENTITY, ...MITID_WITNESS, ...MITID_USE],
      categoriesBasis: 'inferred', consentScopes: [], retentionRuleIds: ['mitid-core-while-necessary'],
      description: 'Where obliged, data necessary for the exercise of authority is transferred to other public authorities.',
      sources: [M('§5', 'In certain cases, the Danish Agency for Digital Government may be obliged to transfer information to other public authorities.')] },
  ],
  sources: [M('§3', 'The Danish Agency for Digital Government does not process your personal data for purposes that are not related to the issuance, administration and use of MitID.')],
};

const verificationFlow = (recipientId: string, purposeIds: string[], source: SourceRef): Flow => ({
  id: `mitid-identity-verification-${recipientId}`, recipientId, roles: ['PROCESSOR'], purposeIds, legalBases: [...MITID_CORE_BASES],
  categoryIds: [...MITID_VERIFICATION], categoriesBasis: 'inferred', consentScopes: [],
  retentionRuleIds: ['mitid-verification-1-day', 'mitid-verification-danish-passport-1-hour'],
  description: 'Identity verification (or reactivation of a blocked authenticator) in the MitID app.', sources: [source],
});

const mitidVerification: ProcessingActivity = {
  id: 'mitid-identity-verification', noticeId: 'mitid', name: 'MitID identity verification via the app',
  description: 'Verifying an identity, or reactivating a temporarily blocked authenticator, with passport chip/photo page, liveness and 3D face recognition in the MitID app.',
  dataSubjects: ['MitID user'],
  purposeIds: ['mitid-app-identity-verification', 'mitid-it-operations'],
  legalBases: [...MITID_CORE_BASES],
  categoryIds: [...MITID_VERIFICATION],
  retentionRuleIds: ['mitid-verification-1-day', 'mitid-verification-danish-passport-1-hour'],
  thirdCountryRuleIds: ['mitid-greenland-faroe-scc'],
  collectionSourceIds: ['mitid-app'],
  flows: [
    verificationFlow('nets-danid', ['mitid-app-identity-verification'], M('§5', 'the supplier of the MitID solution')),
    verificationFlow('it-operations-processors', ['mitid-app-identity-verification', 'mitid-it-operations'],
      M('§5', 'who assist with the operation and administration of IT systems related to the MitID solution')),
  ],
  sources: [M('§8', 'When verifying an identity through the MitID app')],
};

const nkFlow = (recipientId: string, role: Flow['roles'], purposeIds: string[], categoryIds: readonly string[], categoriesBasis: Flow['categoriesBasis'], description: string, source: SourceRef): Flow => ({
  id: `nemkonto-register-${recipientId}`, recipientId, roles: role, purposeIds, legalBases: withCpr(NEMKONTO_BASES, categoryIds),
  categoryIds: [...categoryIds], categoriesBasis, consentScopes: [],
  retentionRuleIds: [
    ...(categoryIds.some((c) => (NEMKONTO_ACCOUNT as readonly string[]).includes(c)) ? ['nemkonto-account-end-of-year-plus-10'] : []),
    ...(categoryIds.some((c) => (NEMKONTO_TRANSACTIONS as readonly string[]).includes(c)) ? ['nemkonto-transactions-not-stated'] : []),
  ],
  description, sources: [source],
});

const PAYMENT_INFO = ['bank-account-information', 'transaction-history', 'type-of-benefit'] as const;
const ACKNOWLEDGEMENT = ['cpr-number', 'transaction-history', 'type-of-benefit'] as const;
const ackSource = N('recipients', 'Sending authorities and private payers, along with their external auditors: They receive acknowledgment responses after the transaction is completed.');

const nemkontoRegister: ProcessingActivity = {
  id: 'nemkonto-register', noticeId: 'nemkonto', name: 'NemKonto register',
  description: 'The register of NemKonto accounts that public authorities (and private payers) use to pay citizens.',
  dataSubjects: ['NemKonto holder (payment recipient)'],
  purposeIds: ['nemkonto-system', 'nemkonto-account-designation', 'nemkonto-payment-execution', 'nemkonto-payment-acknowledgement', 'nemkonto-debt-collection',
    'nemkonto-fraud-control', 'nemkonto-financial-stability', 'nemkonto-transaction-accounting', 'nemkonto-system-operation'],
  legalBases: [...NEMKONTO_BASES, 'DPA_S11_1'],
  categoryIds: NEMKONTO_CATEGORIES,
  retentionRuleIds: ['nemkonto-account-end-of-year-plus-10', 'nemkonto-transactions-not-stated'],
  thirdCountryRuleIds: ['nemkonto-foreign-bank-account'],
  collectionSourceIds: ['cpr-registry', 'nemkonto-self-service', 'financial-institution', 'public-authority'],
  flows: [
    nkFlow('citizens-bank', ['FINANCIAL_INSTITUTION'], ['nemkonto-account-designation', 'nemkonto-system'], ['bank-account-information', 'cpr-number'], 'inferred',
      'The citizen\'s bank is told which account is the NemKonto.', N('recipients', 'Your bank: We inform your bank about which account you wish to use as your NemKonto.')),
    nkFlow('payment-processing-banks', ['FINANCIAL_INSTITUTION'], ['nemkonto-payment-execution'], PAYMENT_INFO, 'inferred',
      'Payment information for executing a payment.', N('recipients', 'Payment-processing banks: They receive your payment information from the NemKonto register in connection with the execution of a payment.')),
    nkFlow('sending-authorities', ['PUBLIC_AUTHORITY'], ['nemkonto-payment-acknowledgement'], ACKNOWLEDGEMENT, 'inferred', 'Acknowledgement response to the paying authority.', ackSource),
    nkFlow('private-payers', ['PRIVATE_PAYER'], ['nemkonto-payment-acknowledgement'], ACKNOWLEDGEMENT, 'inferred', 'Acknowledgement response to the private payer.', ackSource),
    nkFlow('payer-external-auditors', ['EXTERNAL_AUDITOR'], ['nemkonto-payment-acknowledgement'], ACKNOWLEDGEMENT, 'inferred', 'Acknowledgement responses seen by the payer\'s external auditor.', ackSource),
    nkFlow('danish-tax-authority', ['PUBLIC_AUTHORITY'], ['nemkonto-debt-collection', 'nemkonto-fraud-control'], ['cpr-number', ...PAYMENT_INFO], 'inferred',
      'Payment information for debt collection and fraud control.', N('recipients', 'The Danish Tax Authority: They receives payment information in debt collection cases and as part of its control function to combat economic crime and fraud')),
    nkFlow('danmarks-nationalbank', ['PUBLIC_AUTHORITY'], ['nemkonto-financial-stability'], ['bank-account-information', 'transaction-history'], 'inferred',
      'Data for financial stability and currency/monetary policy work.', N('recipients', "The Danish National Bank: In connection with the national bank's work to ensure financial stability")),
    nkFlow('accounting-centres', ['PUBLIC_AUTHORITY', 'PROCESSOR'], ['nemkonto-transaction-accounting'], [...NEMKONTO_TRANSACTIONS], 'stated',
      'Transaction information to accounting centres.', N('recipients', 'Accounting centers: They receive transaction information.')),
    nkFlow('kmd', ['PROCESSOR'], ['nemkonto-system-operation', 'nemkonto-system'], NEMKONTO_CATEGORIES, 'stated',
      'KMD operates the NemKonto system and may see any of its data for technical reasons.', N('recipients', 'KMD A/S: The provider operates the NemKonto system and may therefore have access to personal information for technical reasons.')),
  ],
  sources: [N('purposes', 'Your NemKonto is the bank account that all public authorities use when they need to transfer money to you.')],
};

const rightsFor = (n: NoticeId, activityIds: string[], supportId: string, channels: string[]): DataSubjectRight[] => {
  const r = (right: DataSubjectRight['right'], status: DataSubjectRight['status'], sources: Sources, extra: Partial<DataSubjectRight> = {}): DataSubjectRight =>
    ({ id: `${n}-${right}`, noticeId: n, right, status, activityIds, channels, sources, ...extra });
  const withdraw = r('withdraw-consent', 'applicable', [S(n, n === 'mitid' ? '§10' : 'rights', 'The right to withdraw consent is relevant in relation to support.'),
    S(n, n === 'mitid' ? '§10' : 'rights', 'you may be asked to consent to the processing of your personal data for customer satisfaction analysis, screen sharing, and call analysis')],
  { activityIds: [supportId], reason: 'Only support processing rests on consent (satisfaction survey, screen sharing, call recording/analysis); withdrawal takes effect from then on.' });
  if (n === 'mitid') {
    return [
      r('access', 'applicable', [M('§10', 'You have the right to access the information we process about you, as well as additional information.'),
        M('§10', 'Here, you can also generate an automatic GDPR report, where you can see the information registered in MitID about you.')],
      { channels: [...channels, 'Self-service on MitID.dk, including an automatic GDPR report'] }),
      r('rectification', 'applicable', [M('§10', 'You can change your email address and mobile phone number at any time via self-service on MitID.dk.'),
        M('§10', 'For the correction of other information that may be incorrect, such as errors in CPR information, you should contact Citizen Service.')],
      { channels: ['Self-service on MitID.dk (e-mail, mobile number, alternative address)', 'Citizen Service (errors in CPR information)'] }),
      r('erasure', 'applicable', [M('§10', 'However, you can always request the deletion of information about your email address, alternative address, and/or mobile number.'),
        M('§10', 'if you delete your mobile number, you will no longer be able to use the MitID app')],
      { reason: 'Limited: data is kept as long as necessary; deletion of e-mail, alternative address and mobile number can always be requested (without a mobile number the app cannot be used).' }),
      r('restriction', 'applicable', [M('§10', 'However, restricting the processing of your personal data may mean that you cannot use MitID.')],
        { reason: 'In certain cases; restriction may mean MitID cannot be used.' }),
      r('objection', 'applicable', [M('§10', 'In special situations, you have the right as a user to object to the processing of the personal data'),
        M('§10', 'with the title "Complaint about the processing of MitID personal data"')],
      { reason: 'In special situations.', channels: ['Digital Post to the Danish Agency for Digital Government',
        'Letter to the Danish Agency for Digital Government, Landgreven 4, 1301 Copenhagen K, titled "Complaint about the processing of MitID personal data"'] }),
      r('portability', 'not-applicable', [M('§10', 'This right does not apply to MitID, as the processing takes place as part of the exercise of authority, which the data controller is required to by law.')],
        { reason: 'The processing takes place as part of the exercise of authority, which the data controller is required to by law.' }),
      withdraw,
    ];
  }
  return [
    r('access', 'applicable', [N('rights', 'You have the right to gain insight into the data we process about you, as well as some additional information.')]),
    r('rectification', 'applicable', [N('rights', 'You have the right to have incorrect information corrected.')]),
    r('erasure', 'applicable', [N('rights', 'In specific situations, you have the right to have your information erased before our general deadline for erasure comes into force.')],
      { reason: 'In specific situations, before the general deletion deadline.' }),
    r('restriction', 'applicable', [N('rights', 'we will in the future only process your information – except for storage – with your consent or for the purposes of enforcing or defending legal claims, or for the protection of a person or important public interest.')],
      { reason: 'In certain situations; afterwards only storage, or processing with consent, for legal claims or to protect a person or an important public interest.' }),
    r('objection', 'applicable', [N('rights', 'In certain situations, you will have the right to object to our otherwise legal processing of your personal data.')],
      { reason: 'In certain situations.' }),
    r('portability', 'not-stated', [N('rights', 'According to the General Data Protection Regulation, you have rights in connection with our processing of your personal data.')],
      { reason: 'The NemKonto notice does not mention data portability (GDPR Art. 20(3) excludes processing under Art. 6(1)(e) in any case).' }),
    withdraw,
  ];
};

const RIGHTS_CAVEAT = 'Please note that there are exceptions to these rights, and you may not always be able to exercise all of your rights. This is because, as public authorities, we often process personal data as part of our exercise of authority, and certain exceptions apply.';

export const register = {
  registerVersion: '1.0.0',
  controllers: [{
    id: 'digst', name: 'Digitaliseringsstyrelsen', nameEn: 'The Danish Agency for Digital Government', cvr: '34051178',
    address: { recipient: 'Digitaliseringsstyrelsen', street: 'Landgreven 4', postcode: '1301', city: 'København K' },
    phone: '+45 33 92 52 00', email: 'digst@digst.dk',
    dpo: {
      appointedBy: 'The Ministry of Digital Government and Gender Equality', email: 'dpo@digst.dk',
      postal: [
        { recipient: 'Danish Agency for Digital Government', attention: 'Data Protection Officer', street: 'Landgreven 4', postcode: '1301', city: 'Copenhagen K' },
        { recipient: 'Digitaliseringsstyrelsen', attention: 'Databeskyttelsesrådgiveren', street: 'Landgreven 4', postcode: '1301', city: 'København K' },
      ],
      digitalPost: "Send the mail to the Danish Agency for Digital Government in the Digital Post solution. Write 'Attention: Data Protection Officer' in the subject field.",
      emailCaution: 'Do not send your CPR number or other sensitive/confidential information by e-mail.',
      sources: [M('§2', 'The Ministry of Digital Government and Gender Equality has appointed a Data Protection Officer'), M('§2', 'Via email: dpo@digst.dk.'),
        M('§2', "Send the mail to the Danish Agency for Digital Government in the Digital Post solution. Write 'Attention: Data Protection Officer' in the subject field."),
        M('§2', 'Via letter: Danish Agency for Digital Government, Attention: Data Protection Officer, Landgreven 4, 1301 Copenhagen K.'),
        M('§2', 'please refrain from providing your CPR number or other sensitive/confidential information'),
        N('data protection officer', 'Att.: Databeskyttelsesrådgiveren Landgreven 4, 1301 København K E-mail: dpo@digst.dk')],
    },
    sources: [M('§1', 'The Danish Agency for Digital Government is the data controller for the processing of your personal data.'),
      M('§1', 'Landgreven 4 1301 København K CVR no..: 34 05 11 78 Phone: +45 33 92 52 00 Mail: digst@digst.dk'),
      N('controller', 'Digitaliseringsstyrelsen, Landgreven 4, 1301 København K CVR-nr.: 34051178 Phone: +45 33 92 52 00 E-mail: digst@digst.dk')],
  }],
  complaintAuthorities: [{
    id: 'datatilsynet', name: 'Datatilsynet', nameEn: 'Danish Data Protection Agency', website: 'www.datatilsynet.dk',
    sources: [M('§11', 'You can find the contact information for the Danish Data Protection Agency at www.datatilsynet.dk'),
      N('complaint', 'you have the right to file a complaint to the Danish Data Protection Agency')],
  }],
  notices: [
    { id: 'mitid', title: 'Privacy notice for MitID', version: '1.6', language: 'en', controllerId: 'digst', complaintAuthorityId: 'datatilsynet',
      activityIds: ['mitid-core', 'mitid-identity-verification', 'mitid-support'],
      thirdCountryPolicy: 'In general, we do not transfer your personal data to recipients outside the EU and the EEA.', rightsCaveat: RIGHTS_CAVEAT, textFile: 'mitid-1.6.txt',
      remarks: [
        'Out of scope: business users with a separate MitID for business are referred to the MitID Erhverv notice (mitid-erhverv.dk).',
        'Akamai: the notice gives no role. It "discloses" data to Akamai for Akamai\'s own analysis, where processors are "handed over" data, so Akamai is read as an independent CONTROLLER.',
        'MitID brokers are "also data sub processors" in certain situations and otherwise "a public authority or a company in the role of MitID Broker": their flow accepts SUB_PROCESSOR, PUBLIC_AUTHORITY and CONTROLLER.',
        'Liveness video and 3D facial recognition attributes are biometric in nature, but the notice does not call them sensitive or name an Art. 9 basis: modelled as special=false, as stated.',
        'The §6 Greenland/Faroe Islands rule (standard data protection clauses, Art. 46(2)(c) cited as "Article 46, paragraph 1, litra c") is read as covering all MitID activities.',
        'Trend survey (§9 "anonymized survey of trends") and call analysis (§10) are read as the same consented processing by the support sub-processor: either consent scope covers it.',
        'The notice does not say which data Nets DanID, IT processors, RAs and other public authorities receive: those flows carry inferred categories.',
        'Support: the written inquiries of §9 are read as including the sender\'s e-mail address (6 months; archived when forwarded).',
      ],
      sources: [M('intro', 'This privacy notice for MitID describes how the Danish Agency for Digital Government processes your personal data in relation to the use of MitID, and your rights in that regard.'),
        M('intro', 'Version 1.6')] },
    { id: 'nemkonto', title: 'Privacy notice for the NemKonto register', version: null, language: 'en', controllerId: 'digst', complaintAuthorityId: 'datatilsynet',
      activityIds: ['nemkonto-register', 'nemkonto-support'],
      thirdCountryPolicy: 'We do not transfer your personal information to recipients outside the EU and EEA.', rightsCaveat: RIGHTS_CAVEAT, textFile: 'nemkonto.txt',
      remarks: [
        'The notice states no version or date.',
        'The DPO paragraph speaks of "the Ministry of Finance" while the DPO is appointed by the Ministry of Digital Government and Gender Equality; only the DPO contact is modelled.',
        'Screen sharing is offered but no retention is stated for it: rule nemkonto-support-screen-sharing-not-stated.',
        '"Current year plus 10 years" is stated for NemKontos and accounts; it is applied to the account record (account, CPR number, name, address, tax ID). No retention is stated for transaction history and type of benefit: rule nemkonto-transactions-not-stated.',
        'Which categories each recipient receives is mostly not stated ("payment information", "acknowledgment responses", "transaction information"): inferred per flow.',
        'The roles of Danmarks Nationalbank and the accounting centres are not stated: read as PUBLIC_AUTHORITY (accounting centres may also act as PROCESSOR).',
        'Data portability is not mentioned: status not-stated.',
        'The legal-basis line starts "ALov om offentlige betalinger" (a stray "A"): read as LBK 494/2023.',
        'The complaint authority\'s web address is not given; it is the same Datatilsynet as in the MitID notice.',
      ],
      sources: [N('intro', 'Here you can read about the Agency for Digital Government use of personal information associated with the NemKonto register')] },
  ],
  legalBases: [
    { id: 'GDPR_ART6_1_A', title: 'Consent', reference: 'GDPR Art. 6(1)(a)', declarable: true,
      sources: [M('§9', 'follows Article 6 of the Data Protection Regulation, paragraph 1, litra a, on consent'), N('support', 'follows Article 6 of the Data Protection Regulation, paragraph 1, litra a, on consent')] },
    { id: 'GDPR_ART6_1_E', title: 'Exercise of official authority (ordinary personal data)', reference: 'GDPR Art. 6(1)(e)', declarable: true,
      sources: [M('§3', 'the EU General Data Protection Regulation Article 6, para 1, litra e, related to the processing of ordinary personal data'),
        N('purposes', 'Article 6(1)(e) of the General Data Protection Regulation for the processing of ordinary personal data')] },
    { id: 'DPA_S11_1', title: 'Danish Data Protection Act §11(1) (CPR numbers)', reference: 'Databeskyttelsesloven § 11, stk. 1', declarable: true,
      sources: [M('§3', 'the Danish Data Protection Act § 11, para 1, litra 1, related to the processing of the Danish Civil Registration number (CPR number)'),
        N('purposes', 'Section 11(1) of the Data Protection Act for the processing of CPR numbers')] },
    { id: 'MITID_ACT_783_2021', title: 'Act on MitID and NemLog-in', reference: 'Law no. 783 of 4 May 2021, as amended by law no. 1559 of 12 December 2023', declarable: true,
      sources: [M('§3', 'law no. 783 of May 4th, 2021, regarding MitID and NemLog-in, as amended by law no. 1559 of December 12th, 2023')] },
    { id: 'LBK_494_2023', title: 'Lov om offentlige betalinger m.v.', reference: 'LBK nr. 494 af 4. maj 2023', declarable: true,
      sources: [N('purposes', 'Lov om offentlige betalinger m.v. (LBK nr. 494 af 4. maj 2023)')] },
    { id: 'BEK_647_2021', title: 'Bekendtgørelse om Nemkontoordningen', reference: 'BEK nr. 647 af 13. april 2021', declarable: true,
      sources: [N('purposes', 'bekendtgørelse om Nemkontoordningen (BEK nr. 647 af 13. april 2021)')] },
    { id: 'NOT_STATED', title: 'Not stated by the producer', reference: '-', declarable: false, sources: [] },
  ],
  purposes,
  dataCategories,
  recipients: [
    { id: 'other-public-authorities', name: 'Other public authorities', role: 'PUBLIC_AUTHORITY', isCategory: true,
      description: 'Authorities the agency may be obliged to transfer data to, limited to what the exercise of authority needs.',
      sources: [M('§5', 'In certain cases, the Danish Agency for Digital Government may be obliged to transfer information to other public authorities.')] },
    { id: 'nets-danid', name: 'Nets DanID A/S', role: 'PROCESSOR', isCategory: false, description: 'Data processor and supplier of the MitID solution.',
      sources: [M('§5', 'Nets DanID A/S is the data processor for the Danish Agency for Digital Government and the supplier of the MitID solution.')] },
    { id: 'danish-business-authority', name: 'The Danish Business Authority (Erhvervsstyrelsen)', role: 'PROCESSOR', isCategory: false,
      description: 'Data processor handling MitID and NemKonto support.',
      sources: [M('§5', 'The Danish Business Authority is the data processor in relation to handling support.'), N('support', 'The Danish Business Authority is our processor in relation with support.')] },
    { id: 'registration-authority', name: 'Registration Authorities (RAs)', role: 'SUB_PROCESSOR', isCategory: true,
      description: 'Citizen Service units and banks where MitID is registered; sub-processors in the MitID solution.',
      sources: [M('§5', 'RA’s are Registration Authorities and data sub processors in the MitID solution.'),
        M('§7', 'The Citizen Service unit or bank, where you request the registration of MitID, collects your personal data directly from you.')] },
    { id: 'mitid-broker', name: 'MitID brokers', role: 'SUB_PROCESSOR', isCategory: true,
      roleNote: 'Sub-processors "in certain situations"; otherwise "a public authority or a company in the role of MitID Broker" receiving risk data and authentication responses.',
      description: 'Public authorities or companies acting as MitID broker between MitID and the service the user logs in to.',
      sources: [M('§5', 'In certain situations, MitID Brokers are also data sub processors in relation to the MitID solution.'), M('§5', 'a public authority or a company in the role of MitID Broker')] },
    { id: 'it-operations-processors', name: 'IT operations data processors', role: 'PROCESSOR', isCategory: true,
      description: 'Data processors assisting with operation and administration of the MitID IT systems.',
      sources: [M('§5', 'who assist with the operation and administration of IT systems related to the MitID solution')] },
    { id: 'akamai-denmark', name: 'Akamai Technologies Denmark ApS', role: 'CONTROLLER', cvr: '36026650', isCategory: false,
      roleNote: 'Not stated; data is "disclosed" to Akamai for its own traffic and security analysis, so read as an independent controller.',
      description: 'Receives web traffic data for traffic and security analysis of MitID.',
      sources: [M('§5', 'Akamai Denmark (Akamai Technologies Denmark ApS, CVR number 36 02 66 50)')] },
    { id: 'support-call-analysis-sub-processor', name: 'Support call-analysis sub-processor', role: 'SUB_PROCESSOR', isCategory: false,
      description: 'Unnamed sub-processor of the support processor: converts call audio to text, anonymises it and analyses trends.',
      sources: [M('§9', 'The data processor uses a data sub processor to analyze trends in user calls.'), N('support storage', 'The data processor uses a data sub processor to analyze trends in user calls.')] },
    { id: 'support-forwarding-authorities', name: 'Authorities receiving misdirected support e-mails', role: 'PUBLIC_AUTHORITY', isCategory: true,
      description: 'The appropriate authority/unit that a misdirected e-mail to MitID or NemKonto support is forwarded to.',
      sources: [M('§9', 'forwarded to the appropriate authority/unit'), N('support', 'forwarded to the appropriate authority/unit')] },
    { id: 'citizens-bank', name: 'The citizen\'s bank', role: 'FINANCIAL_INSTITUTION', isCategory: true, description: 'The bank holding the account chosen as NemKonto.',
      sources: [N('recipients', 'Your bank: We inform your bank about which account you wish to use as your NemKonto.')] },
    { id: 'payment-processing-banks', name: 'Payment-processing banks', role: 'FINANCIAL_INSTITUTION', isCategory: true, description: 'Banks executing NemKonto payments.',
      sources: [N('recipients', 'Payment-processing banks: They receive your payment information from the NemKonto register in connection with the execution of a payment.')] },
    { id: 'sending-authorities', name: 'Sending authorities', role: 'PUBLIC_AUTHORITY', isCategory: true, description: 'Public authorities paying via NemKonto.', sources: [ackSource] },
    { id: 'private-payers', name: 'Private payers', role: 'PRIVATE_PAYER', isCategory: true, description: 'Private payers paying via NemKonto.', sources: [ackSource] },
    { id: 'payer-external-auditors', name: 'External auditors of sending authorities and private payers', role: 'EXTERNAL_AUDITOR', isCategory: true,
      description: 'External auditors of the payers, who see acknowledgement responses.', sources: [ackSource] },
    { id: 'danish-tax-authority', name: 'The Danish Tax Authority (Skatteforvaltningen)', role: 'PUBLIC_AUTHORITY', isCategory: false,
      description: 'Receives payment information for debt collection and fraud control.',
      sources: [N('recipients', 'The Danish Tax Authority: They receives payment information in debt collection cases')] },
    { id: 'danmarks-nationalbank', name: 'Danmarks Nationalbank', role: 'PUBLIC_AUTHORITY', isCategory: false,
      roleNote: 'Not stated; the central bank is an independent public institution.', description: 'Financial stability and currency/monetary policy work.',
      sources: [N('recipients', "The Danish National Bank: In connection with the national bank's work to ensure financial stability")] },
    { id: 'accounting-centres', name: 'Accounting centres', role: 'PUBLIC_AUTHORITY', isCategory: true,
      roleNote: 'Not stated; read as public accounting centres of the paying authorities (the flow also accepts PROCESSOR).', description: 'Receive transaction information.',
      sources: [N('recipients', 'Accounting centers: They receive transaction information.')] },
    { id: 'kmd', name: 'KMD A/S', role: 'PROCESSOR', isCategory: false, description: 'Operates the NemKonto system.',
      sources: [N('recipients', 'KMD A/S: The provider operates the NemKonto system and may therefore have access to personal information for technical reasons.')] },
  ],
  retentionRules,
  thirdCountryRules: [
    { id: 'mitid-greenland-faroe-scc', noticeId: 'mitid', activityIds: ['mitid-core', 'mitid-identity-verification', 'mitid-support'], countries: ['GL', 'FO'],
      safeguard: 'STANDARD_CONTRACTUAL_CLAUSES', condition: 'MitID issued in Greenland or the Faroe Islands',
      sources: [M('§6', 'When transferring personal data to Greenland or the Faroe Islands, the legal basis is standard data protection clauses pursuant to EU General Data Protection Regulation Article 46, paragraph 1, litra c).')] },
    { id: 'nemkonto-foreign-bank-account', noticeId: 'nemkonto', activityIds: ['nemkonto-register'], countries: 'ANY', safeguard: 'DATA_SUBJECT_REQUEST',
      recipientIds: ['citizens-bank', 'payment-processing-banks'], condition: 'only if the citizen has asked for a foreign bank account as NemKonto',
      sources: [N('third countries', 'Payment information is only sent to financial institutions outside the European Union/European Economic Area if you ever request the designation of a foreign bank account as your NemKonto')] },
  ],
  collectionSources: [
    { id: 'citizen-service-or-bank', name: 'Citizen Service unit or bank', kind: 'intermediary', activityIds: ['mitid-core'],
      categoryIds: [...MITID_IDENTITY, ...MITID_WITNESS], description: 'Collects the data directly from the user when MitID is registered.',
      sources: [M('§7', 'The Citizen Service unit or bank, where you request the registration of MitID, collects your personal data directly from you.')] },
    { id: 'mitid-online-order', name: 'Online order of an authenticator', kind: 'data-subject', activityIds: ['mitid-core'],
      categoryIds: ['name', 'date-of-birth', 'email-address', 'mobile-phone-number', 'alternative-address'], description: 'Collected directly from the user ordering an authenticator online.',
      sources: [M('§7', 'If you are ordering an authenticator online prior to, or in connection with, your registration as MitID user, your personal data is collected directly from you.')] },
    { id: 'mitid-app', name: 'MitID app', kind: 'data-subject', activityIds: ['mitid-identity-verification'], categoryIds: [...MITID_VERIFICATION],
      description: 'Collected directly from the user verifying their identity in the app.',
      sources: [M('§7', 'Your personal data is also collected directly from you if you use the MitID app to complete the verification of your identity.')] },
    { id: 'mitid-self-service', name: 'Own update (MitID self-service)', kind: 'self-service', activityIds: ['mitid-core'],
      categoryIds: ['alternative-address', 'mobile-phone-number', 'email-address'], description: 'Optional additional information the user updates.',
      sources: [M('§7', 'by your own update of optional additional information such as an alternative address, mobile number, and email address')] },
    { id: 'cpr-registry', name: 'CPR registry', kind: 'public-registry', activityIds: ['mitid-core', 'nemkonto-register'],
      categoryIds: ['cpr-information', 'cpr-number', 'name', 'address', 'date-of-birth'], description: 'Basic data synchronised with CPR (MitID); name and address (NemKonto).',
      sources: [M('§7', 'your basic data is synchronized with your CPR information'), N('collection', 'Your name and address are obtained from the CPR register.')] },
    { id: 'passport-driver-licence-registry', name: 'Passport/driver\'s licence registry', kind: 'public-registry', activityIds: ['mitid-core'],
      categoryIds: ['identification-document-information', 'identification-document-number-pseudonymised'], description: 'Central registry of identity documents.',
      sources: [M('§7', 'information is also obtained from central public registries like the passport/driver’s license registry')] },
    { id: 'danish-address-registry', name: 'Danish Address Registry', kind: 'public-registry', activityIds: ['mitid-core'], categoryIds: ['address'],
      description: 'Central address registry.', sources: [M('§7', 'CPR registry, and the Danish Address Registry')] },
    { id: 'nemkonto-self-service', name: 'Self-service on nemkonto.dk', kind: 'self-service', activityIds: ['nemkonto-register'], categoryIds: ['bank-account-information'],
      description: 'The citizen assigns the NemKonto themselves.', sources: [N('collection', 'Self-service solution on nemkonto.dk')] },
    { id: 'financial-institution', name: 'The citizen\'s financial institution', kind: 'financial-institution', activityIds: ['nemkonto-register'], categoryIds: ['bank-account-information'],
      description: 'The bank assigns the NemKonto on the citizen\'s behalf.', sources: [N('collection', 'Your financial institution')] },
    { id: 'public-authority', name: 'A public authority', kind: 'public-authority', activityIds: ['nemkonto-register'], categoryIds: ['bank-account-information'],
      description: 'A public authority assigns the NemKonto.', sources: [N('collection', 'we obtain your account number from one of the following channels that you have used to assign the NemKonto')] },
  ],
  rights: [
    ...rightsFor('mitid', ['mitid-core', 'mitid-identity-verification', 'mitid-support'], 'mitid-support',
      ['Digital Post to the Danish Agency for Digital Government', 'Letter to the Danish Agency for Digital Government, Landgreven 4, 1301 Copenhagen K, titled "Processing of MitID Personal data"']),
    ...rightsFor('nemkonto', ['nemkonto-register', 'nemkonto-support'], 'nemkonto-support', ['Contact the Danish Agency for Digital Government (controller contact details)']),
  ],
  activities: [
    mitidCore,
    mitidVerification,
    supportActivity('mitid', retentionRules, purposes),
    nemkontoRegister,
    supportActivity('nemkonto', retentionRules, purposes),
  ],
} satisfies ProcessingRegister;

export const processingRegister: ProcessingRegister = register;
