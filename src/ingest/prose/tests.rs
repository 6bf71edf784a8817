//! The classifier on hand-made pages: what goes, what stays.
use super::features::{quotes_speech, unquoted};
use super::*;

fn kept(lines: &[&str]) -> Vec<String> {
    let spaced: Vec<(&str, usize, bool, bool)> =
        lines.iter().map(|t| (*t, 1, false, false)).collect();
    kept_spaced(&spaced)
}

#[test]
fn builtin_rules_compile() {
    assert!(Prose::from_toml(PROSE_TOML).is_ok());
}

#[test]
fn unseen_pitches_inside_and_after_the_body_go() {
    let body = [
        "The council voted on Tuesday to close the old bridge to lorries after engineers found cracks in two of its supports.",
        "Readers like you keep this newsroom going: become a member today for just $5 a month.",
        "Residents on both banks said the closure would add half an hour to the school run, and several shops expect fewer customers.",
        "Click to enlarge",
        "Repairs are expected to take at least eighteen months, the council said in a statement on its website.",
        "Tags: bridge, council, traffic",
        "You have 3 free stories left this month.",
    ];
    let k = kept(&body);
    assert_eq!(k.len(), 3, "{k:?}");
    assert!(
        k.iter().all(|l| !l.contains("member")
            && !l.contains("enlarge")
            && !l.contains("free stories"))
    );
}

#[test]
fn quoted_speech_addressing_you_stays() {
    let body = [
        "The mayor opened the new library on Saturday morning in front of a crowd of several hundred people from the town.",
        "“If you love books, this is your place now,” she told the children who had queued since dawn.",
        "The building cost £4 million and took two years to finish, the council said.",
    ];
    assert_eq!(kept(&body).len(), 3);
}

#[test]
fn prose_after_a_run_of_clutter_is_not_the_body() {
    let body = [
        "The council voted on Tuesday to close the old bridge to lorries after engineers found cracks in two of its supports.",
        "Residents on both banks said the closure would add half an hour to the school run, and several shops expect fewer customers.",
        "Repairs are expected to take at least eighteen months, the council said.",
        "Share on Facebook",
        "Sign up for our morning briefing",
        "More from News",
        "Council tax to rise by 4% in April",
        "jim_r » 2 hours ago",
        "Typical of this council, they never plan anything and we pay for it every single time.",
    ];
    let k = kept(&body);
    assert_eq!(k.len(), 3, "{k:?}");
}

#[test]
fn subheadings_and_list_items_inside_the_body_stay() {
    let blocks = [
        (
            "The union listed three demands in a letter to the operator on Monday morning:",
            1,
        ),
        ("Higher pay for night shifts", 0),
        ("New safety rules", 0),
        ("What happens next", 1),
        (
            "Talks resume on Friday, both sides said in a joint statement issued late on Monday.",
            1,
        ),
    ];
    let blocks: Vec<Block> = blocks
        .iter()
        .map(|(t, g)| Block {
            text: t,
            gap: *g,
            names_site: false,
            glued_above: false,
            glued_below: false,
        })
        .collect();
    use Verdict::{Item, Keep};
    assert_eq!(
        Prose::builtin().keep(&blocks),
        vec![Keep, Item, Item, Keep, Keep]
    );
}

#[test]
fn score_tables_and_tickers_go() {
    let body = [
        "Rovers came from behind to beat City 3-2 on Saturday, with a late goal from their captain deciding a wild match.",
        "Rovers 0 1 2 — 3",
        "City 1 1 0 — 2",
        "The win lifts Rovers to fourth in the table, two points behind the leaders with a game in hand.",
    ];
    let k = kept(&body);
    assert_eq!(k.len(), 2, "{k:?}");
}

#[test]
fn language_is_the_one_whose_stopwords_cover_most() {
    let p = Prose::builtin();
    let block = |text| Block {
        text,
        gap: 1,
        names_site: false,
        glued_above: false,
        glued_below: false,
    };
    // Words the classifier already read are the words read again.
    let language_of = |blocks: &[Block]| {
        let unread = vec![Vec::new(); blocks.len()];
        let read: Vec<_> = blocks.iter().map(|b| features::words_of(b.text)).collect();
        let code = p.language_of(blocks, &unread).code.as_str();
        assert_eq!(code, p.language_of(blocks, &read).code);
        code
    };
    let fr = [block(
        "Le conseil a voté mardi pour fermer le vieux pont aux camions, et les habitants sont inquiets.",
    )];
    assert_eq!(language_of(&fr), "fr");
    let de = [block(
        "Der Rat hat am Dienstag beschlossen, die alte Brücke für Lastwagen zu sperren, und die Anwohner sind besorgt.",
    )];
    assert_eq!(language_of(&de), "de");
    let pl = [block(
        "Przyrodnicy zapowiadają, że w sierpniu zaobrączkują pisklęta w czterdziestu gniazdach.",
    )];
    assert_eq!(language_of(&pl), "unknown", "no list knows Polish");
}

#[test]
fn boxes_that_open_with_a_pictograph_go_and_bullets_stay() {
    let body = [
        "The council approved the new school on Tuesday after a two-hour debate in the chamber, the mayor said.",
        "🎙️ Hear the whole debate on our weekly podcast, wherever you get your podcasts.",
        "Building starts in spring and the first pupils should move in by the autumn of next year, officials said.",
        "🛒 The new home shirt is in the club shop now, with delivery across the county.",
        "• The old building will be turned into housing for about forty families.",
        "Opponents said the bus links from the outlying villages had been left out of the plan entirely.",
    ];
    let k = kept(&body);
    assert!(
        k.iter()
            .all(|b| !b.contains("podcast") && !b.contains("shop")),
        "{k:?}"
    );
    assert!(k.iter().any(|b| b.contains("forty families")), "{k:?}");
    assert_eq!(k.len(), 4, "{k:?}");
    assert!(features::pictograph_led("🎟️ Tickets on sale now"));
    assert!(!features::pictograph_led("→ Read the report"));
    assert!(!features::pictograph_led("“Quote,” she said."));
}

/// Lines with their blank-line gaps, and whether earlier passes dropped
/// the lines glued above and below them.
fn kept_spaced(lines: &[(&str, usize, bool, bool)]) -> Vec<String> {
    let blocks: Vec<Block> = lines
        .iter()
        .map(|(t, g, above, below)| Block {
            text: t,
            gap: *g,
            names_site: false,
            glued_above: *above,
            glued_below: *below,
        })
        .collect();
    let keep = Prose::builtin().keep(&blocks);
    lines
        .iter()
        .zip(keep)
        .filter(|(_, k)| *k != Verdict::Drop)
        .map(|(l, _)| l.0.to_string())
        .collect()
}

const LEDE: &str = "The harbour board voted on Tuesday to extend the ferry pier by forty metres, ending a dispute that had run for three years between the board and the fishing cooperative.";
const NEXT: &str = "Work is due to start in the spring and to last about eight months, the board's chairwoman told the meeting, with the pier staying open to foot passengers throughout.";
const LAST: &str = "The cooperative said it would drop its objection once the contract was signed, and its members voted by a large majority on Wednesday evening to accept the board's timetable for the works.";

#[test]
fn a_question_glued_to_a_poll_goes_and_one_in_the_body_stays() {
    let poll = "Should the pier stay open to cars during the works?";
    let k = kept_spaced(&[
        (LEDE, 1, false, false),
        (NEXT, 1, false, false),
        (poll, 1, false, false),
        ("Yes · No · Not sure", 0, false, false),
        (LAST, 1, false, false),
    ]);
    assert!(!k.iter().any(|l| l == poll), "{k:?}");
    assert!(k.iter().any(|l| l == LAST), "{k:?}");
    // Set apart by blank lines, the same question is the story's.
    let k = kept_spaced(&[
        (LEDE, 1, false, false),
        (poll, 1, false, false),
        (NEXT, 1, false, false),
        (LAST, 1, false, false),
    ]);
    assert!(k.iter().any(|l| l == poll), "{k:?}");
}

#[test]
fn a_line_between_dropped_clutter_and_a_biography_goes() {
    let bio_lead = "Marisol Etchison covers the harbour and the county budget.";
    let k = kept_spaced(&[
        (LEDE, 1, false, false),
        (NEXT, 1, false, false),
        (LAST, 1, false, false),
        // "About the authors" above it was dropped by the tables.
        (bio_lead, 1, true, false),
        (
            "Grady Pruitt is our data reporter at the Gazette.",
            0,
            false,
            false,
        ),
    ]);
    assert!(!k.iter().any(|l| l == bio_lead), "{k:?}");
    assert!(k.iter().any(|l| l == LAST), "{k:?}");
}

#[test]
fn an_exclaiming_line_under_an_ad_label_goes() {
    let ad = "Winter sports days: 20 % off touring skis at Hauser Outdoor – only until Sunday!";
    let k = kept_spaced(&[
        (LEDE, 1, false, false),
        (ad, 1, true, false),
        (NEXT, 1, false, false),
        (LAST, 1, false, false),
    ]);
    assert_eq!(k, vec![LEDE, NEXT, LAST]);
}

#[test]
fn a_title_in_quotes_does_not_shield_a_pitch_but_speech_does() {
    let pitch = "Every Friday, «Laguna Viva»: everything happening on the lagoon in your inbox. It is free, sign up here.";
    let speech =
        "“You can sign up for free at the harbour office until Friday,” the chairwoman said.";
    let k = kept(&[LEDE, pitch, NEXT, speech, LAST]);
    assert!(!k.iter().any(|l| l == pitch), "{k:?}");
    assert!(k.iter().any(|l| l == speech), "{k:?}");
}

#[test]
fn a_page_pointing_at_itself_speaks_as_the_site_only_in_a_short_line() {
    let typo = "Report a typo or factual error on this page";
    let reported = "Articles will be free on the journal’s website and in its app, and each will carry a plain-language summary. Readers can share this story with friends, the editor said.";
    let k = kept(&[LEDE, typo, NEXT, reported, LAST]);
    assert!(!k.iter().any(|l| l == typo), "{k:?}");
    assert!(k.iter().any(|l| l == reported), "{k:?}");
}

#[test]
fn quoted_words_are_not_the_sites_voice() {
    assert!(quotes_speech("“We are ready,” she said."));
    assert!(quotes_speech("« Nous sommes prêts », a déclaré le maire."));
    assert!(!quotes_speech("Sign up for «Laguna Viva» today."));
    assert_eq!(
        unquoted("said it was “in line with our expectations” and").as_deref(),
        Some("said it was   and")
    );
    assert_eq!(unquoted("no quotes here"), None);
}

#[test]
fn stopwords_decide_a_language_only_without_doubt() {
    let p = Prose::builtin();
    let fr = "Le conseil municipal a voté mardi soir une nouvelle hausse des tarifs du port, après un long débat entre les élus et les pêcheurs qui dénoncent une décision prise sans concertation avec eux.";
    assert_eq!(p.stopword_language(fr), Some("fr"));
    let de = "Der Gemeinderat hat am Dienstagabend eine neue Erhöhung der Hafengebühren beschlossen, nachdem die Fischer und die Stadträte lange über die Pläne für den Ausbau des Hafens gestritten hatten.";
    assert_eq!(p.stopword_language(de), Some("de"));
    let pt = "A câmara municipal aprovou na terça-feira à noite um novo aumento das taxas do porto, depois de um longo debate entre os vereadores e os pescadores, que criticam a falta de consulta.";
    // Portuguese shares most short words with Spanish: never taken for it.
    assert!(matches!(p.stopword_language(pt), None | Some("pt")));
    // A language with no list here goes to the trigram detector, even one
    // that shares many short words with a listed one.
    let ca = "El consell municipal va aprovar dimarts al vespre un nou augment de les taxes del port, després d'un llarg debat entre els regidors i els pescadors, que critiquen la manca de consulta.";
    assert_eq!(p.stopword_language(ca), None);
    let pl = "Rada miejska podjęła we wtorek wieczorem decyzję o kolejnej podwyżce opłat portowych po długiej debacie z rybakami, którzy krytykują brak konsultacji i zapowiadają protest przed ratuszem w przyszłym tygodniu.";
    assert_eq!(p.stopword_language(pl), None);
    // Too few words to tell.
    assert_eq!(p.stopword_language("Le port ferme."), None);
}

#[test]
fn the_page_addressing_its_reader_is_a_pitch_in_new_words() {
    // Each in a page of its language: a formal German imperative, a French
    // imperative with its pronoun, a paid-content label, an English
    // imperative after a conjunction.
    let de = [
        "Der Stadtrat hat am Dienstag beschlossen, die Fähranlegestelle um vierzig Meter zu verlängern, und damit einen drei Jahre alten Streit mit der Fischereigenossenschaft beendet.",
        "Die Arbeiten sollen im Frühjahr beginnen und etwa acht Monate dauern, sagte die Vorsitzende in der Sitzung am Abend vor den Mitgliedern des Ausschusses.",
    ];
    let fr = [
        "Le conseil municipal a voté mardi l'extension de la jetée du bac de quarante mètres, mettant fin à un différend de trois ans avec la coopérative des pêcheurs du port.",
        "Les travaux doivent commencer au printemps et durer environ huit mois, a déclaré la présidente lors de la séance, devant les membres de la commission réunis le soir.",
    ];
    let es = [
        "El ayuntamiento aprobó el martes ampliar el muelle del transbordador en cuarenta metros, lo que pone fin a una disputa de tres años con la cofradía de pescadores del puerto.",
        "Las obras comenzarán en primavera y durarán unos ocho meses, dijo la presidenta en la sesión de la tarde ante los miembros de la comisión reunidos en el ayuntamiento.",
    ];
    let cases = [
        (
            de,
            "Tippfehler, falsche Zahl, fehlender Name? Markieren Sie die Stelle und drücken Sie Strg+Enter.",
        ),
        (
            fr,
            "Une coquille, une erreur ? Signalez-la à la rédaction en un clic.",
        ),
        (es, "Contenido patrocinado"),
        (
            [LEDE, NEXT],
            "The print edition is on sale at the ferry shop every Friday — or subscribe to the e-edition for £1.50 a week.",
        ),
    ];
    for ([first, second], pitch) in cases {
        let k = kept(&[first, pitch, second]);
        assert_eq!(k, vec![first, second], "{pitch:?}");
    }
    // Reporting in the third person stays.
    let reported = "Die Anwohner sagen, sie wollen klagen, und der Bürgermeister kündigte am Abend an, die Pläne noch einmal prüfen zu lassen.";
    let k = kept(&[de[0], reported, de[1]]);
    assert!(k.iter().any(|l| l == reported), "{k:?}");
}

#[test]
fn age_gated_ads_go_and_british_single_quoted_speech_stays() {
    let k = kept(&[
        LEDE,
        "Bet on the harbour regatta with Tidebet – 100% first deposit bonus. 18+ only. Bet responsibly.",
        "Pensioner Ann Lowe, 78, who married on the pier in 1963, said: 'We danced in that pavilion every week, and you could see the whole bay from it.",
        NEXT,
        LAST,
    ]);
    assert!(!k.iter().any(|l| l.contains("Tidebet")), "{k:?}");
    assert!(k.iter().any(|l| l.contains("Ann Lowe")), "{k:?}");
    // An apostrophe neither opens nor closes a quotation; a podcast's name
    // in single marks is a title, not speech.
    assert!(quotes_speech(
        "She said: 'It's like losing a family member.'"
    ));
    assert!(!quotes_speech(
        "Escuche 'Café con Vigía', nuestro pódcast de economía, todos los martes."
    ));
}

#[test]
fn a_box_button_is_no_subheading_and_a_short_closing_sentence_stays() {
    let k = kept_spaced(&[
        (LEDE, 1, false, false),
        (NEXT, 1, false, false),
        (
            "Our free morning briefing has the news you need. It takes 30 seconds to join.",
            1,
            false,
            false,
        ),
        ("Count me in", 0, false, false),
        (LAST, 1, false, false),
        ("The pier reopens in May.", 0, false, false),
        ("More Local News", 0, false, false),
        ("Ferry fares to rise in spring", 0, false, false),
        ("Lifeboat crew rescues two kayakers", 0, false, false),
    ]);
    assert!(!k.iter().any(|l| l == "Count me in"), "{k:?}");
    assert!(k.iter().any(|l| l == "The pier reopens in May."), "{k:?}");
    assert!(!k.iter().any(|l| l.contains("Ferry fares")), "{k:?}");
}

#[test]
fn prose_after_a_comparison_table_inside_the_body_is_still_the_story() {
    let k = kept(&[
        LEDE,
        NEXT,
        "Skigebiet | Pistenkilometer | Preis",
        "Hochwetzkogel | 22 km | 46 €",
        "Kolbnitzer Höhe | 31 km | 55 €",
        "Mölltaler Sonnberg | 58 km | 63 €",
        LAST,
        "Markus Pirker ist Wirtschaftsredakteur der Drautal Rundschau. Er berichtet seit 2012 über Tourismus.",
    ]);
    assert!(k.iter().any(|l| l == LAST), "{k:?}");
    assert!(!k.iter().any(|l| l.contains(" | ")), "{k:?}");
    assert!(
        !k.iter().any(|l| l.contains("Wirtschaftsredakteur")),
        "{k:?}"
    );
    assert!(super::features::table_row("Hochwetzkogel | 22 km | 46 €"));
    assert!(!super::features::table_row(
        "Facebook | WhatsApp | E-Mail | Drucken"
    ));
}

#[test]
fn a_range_opening_a_sentence_is_no_gallery_counter_and_weather_widgets_go() {
    let range =
        "Between 7 and 8 pm, the hourly spot price rose to €1.89 per kilowatt hour, excluding tax.";
    let k = kept(&[
        LEDE,
        "Lappeenranta −27°C ☀  Tomorrow −24°C",
        range,
        "Photo 3 of 12",
        NEXT,
        "Weather: Saturday −12°C, light snow",
        LAST,
    ]);
    assert!(k.iter().any(|l| l == range), "{k:?}");
    assert!(!k.iter().any(|l| l.contains("°C")), "{k:?}");
    assert!(!k.iter().any(|l| l.starts_with("Photo 3")), "{k:?}");
    // A sentence reporting a temperature is the story's.
    assert!(!super::features::weather_widget(
        "Temperatures fell to −31°C in Kuusamo overnight."
    ));
}

#[test]
fn bios_shop_plugs_box_office_lines_and_correction_boxes_go() {
    let k = kept(&[
        LEDE,
        NEXT,
        LAST,
        "Lorenza Ghielmetti ist Redaktorin im Ressort Region. Sie berichtet seit 2019 über das Locarnese.",
        "Tickets for the remaining festival nights (until 14 July) are available from CHF 45 at the festival box office and online.",
        "Gear up for next season: our tested picks for classic skis, poles and waxing kits are in the Trail Times Shop.",
        "Did we get something wrong? Let us know here.",
        "Liis Kask writes about science and the environment in the Baltics.",
        "Support the Ledger: we are paid for by readers. Give once or give monthly — it takes a minute.",
    ]);
    assert_eq!(k, [LEDE, NEXT, LAST], "{k:?}");
    // Tickets reported on, with no price, are news.
    let news = "Tickets for the final sold out within twelve minutes of going on sale, the club said on Monday.";
    assert!(kept(&[LEDE, news, LAST]).iter().any(|l| l == news));
}

#[test]
fn a_list_under_its_lead_in_keeps_its_unfinished_items() {
    let items = [
        "Liam Hardwick (Mumbai Mariners) – Rs 23.5 crore",
        "Dane Whitfield (Chennai Chargers) – Rs 20.25 crore",
        "Rohit Soren (Kolkata Kings) – Rs 7.2 crore",
    ];
    let k = kept_spaced(&[
        (LEDE, 1, false, false),
        (
            "The three most expensive buys of the day were:",
            1,
            false,
            false,
        ),
        (items[0], 0, false, false),
        (items[1], 0, false, false),
        (items[2], 0, false, false),
        (NEXT, 1, false, false),
        (LAST, 1, false, false),
    ]);
    for item in items {
        assert!(k.iter().any(|l| l == item), "{item} lost: {k:?}");
    }
    // The same lines with no lead-in above them are a teaser list.
    let k = kept_spaced(&[
        (LEDE, 1, false, false),
        (NEXT, 1, false, false),
        (LAST, 1, false, false),
        (items[0], 1, false, false),
        (items[1], 0, false, false),
    ]);
    assert!(!k.iter().any(|l| l == items[0]), "{k:?}");
}

proptest::proptest! {
    /// The byte-wise fast paths of the line features agree with their
    /// plain definitions, character by character.
    #[test]
    fn line_features_match_their_definitions(
        text in "[a-zA-Z0-9 .,:;!?|'\"’“”„«»‹›‘—–•·éÉßİΣ١\u{a0}\u{2009}-]{0,40}"
    ) {
        use super::features::{digit_share, sentence_openers, word_of};
        for token in text.split_whitespace() {
            let w = token
                .trim_matches(|c: char| !c.is_alphanumeric() && c != '\'' && c != '’' && c != '-')
                .trim_matches(['\'', '’', '-']);
            let expected = (!w.is_empty()).then(|| w.to_lowercase());
            proptest::prop_assert_eq!(word_of(token).map(|w| w.into_owned()), expected);
        }
        let marks = ['.', '!', '?', '—', '–', ':', '|', '•', '·'];
        let mut starts = vec![0];
        for (i, c) in text.char_indices() {
            let next = i + c.len_utf8();
            if marks.contains(&c) && text.as_bytes().get(next) == Some(&b' ') {
                starts.push(next);
            }
        }
        let expected: Vec<String> = starts
            .iter()
            .filter_map(|&at| {
                let mut words = text[at..].split_whitespace().filter_map(word_of);
                let first = words.next()?;
                let conjunction = ["or", "and", "ou", "et", "oder", "und", "o", "y"]
                    .contains(&first.as_ref());
                if conjunction { words.next() } else { Some(first) }
            })
            .map(|w| w.into_owned())
            .collect();
        let openers: Vec<String> = sentence_openers(&text).map(|w| w.into_owned()).collect();
        proptest::prop_assert_eq!(openers, expected);
        let chars: Vec<char> = text.chars().filter(|c| !c.is_whitespace()).collect();
        let digits = chars.iter().filter(|c| c.is_ascii_digit()).count();
        let share = if chars.is_empty() { 0.0 } else { digits as f32 / chars.len() as f32 };
        proptest::prop_assert_eq!(digit_share(&text), share);
    }

    /// A line's words, split and lowered byte by byte when it is ASCII,
    /// are the words of its whitespace-separated tokens by the plain
    /// definition, whatever the line holds.
    #[test]
    fn a_lines_words_are_its_tokens_words(
        text in proptest::prop_oneof![
            "[a-zA-Z0-9 \t\n\x0b\x0c\r.,:;!?|'\"()-]{0,60}",
            "[a-zA-Z0-9 .,'\"’“«»éÉßİΣ\u{a0}\u{2009}-]{0,60}",
        ]
    ) {
        use super::features::words_of;
        let expected: Vec<String> = text
            .split_whitespace()
            .filter_map(|token| {
                let w = token
                    .trim_matches(|c: char| !c.is_alphanumeric() && c != '\'' && c != '’' && c != '-')
                    .trim_matches(['\'', '’', '-']);
                (!w.is_empty()).then(|| w.to_lowercase())
            })
            .collect();
        let words: Vec<String> = words_of(&text).into_iter().map(|w| w.into_owned()).collect();
        proptest::prop_assert_eq!(words, expected);
    }
}
