// The paper's five rating criteria, in display order.
export const CRITERIA = [
  ['expertise', 'Technical expertise'],
  ['helpfulness', 'Helpfulness'],
  ['clarity', 'Clarity of communication'],
  ['examples', 'Presence of examples'],
  ['timeliness', 'Timeliness'],
];
