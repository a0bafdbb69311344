import fs from 'fs';
fs;
